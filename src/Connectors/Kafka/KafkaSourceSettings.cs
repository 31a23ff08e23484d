// What a Kafka source needs: where the brokers are, which group and topics, how much it may hold per
// partition before the partition is paused, and any further librdkafka properties passed through untouched.
using System.Collections.Immutable;
using Akka.Dispatch;

namespace ContextLake.Connectors.Kafka;

public sealed record KafkaSourceSettings(
    string BootstrapServers,
    string GroupId,
    IReadOnlyList<string> Topics,
    int MaxBufferPerPartition = 1000,
    TimeSpan? PollTimeout = null)
{
    /// <summary>Extra librdkafka properties, applied over the defaults; <c>enable.auto.commit</c> always stays false.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>How long a commit may wait, retries through a rebalance included.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The consumer actor makes short blocking calls (commit, seek, close): keep them off the default dispatcher.</summary>
    public string Dispatcher { get; init; } = Dispatchers.DefaultBlockingDispatcherId;

    /// <summary>
    /// Pause between polls when the last poll found nothing; also the longest a new record or demand waits for a poll (a
    /// poll of an idle consumer is a call into librdkafka that returns at once, so a short pause costs little).
    /// </summary>
    public TimeSpan EffectivePollTimeout => PollTimeout ?? TimeSpan.FromMilliseconds(2);

    public KafkaSourceSettings WithProperty(string name, string value) =>
        this with { Properties = new Dictionary<string, string>(Properties) { [name] = value } };

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers)) throw new ArgumentException("bootstrap servers are required", nameof(BootstrapServers));
        if (string.IsNullOrWhiteSpace(GroupId)) throw new ArgumentException("a group id is required", nameof(GroupId));
        if (Topics.Count == 0) throw new ArgumentException("at least one topic is required", nameof(Topics));
        if (MaxBufferPerPartition < 1) throw new ArgumentOutOfRangeException(nameof(MaxBufferPerPartition), "must be at least 1");
        if (EffectivePollTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollTimeout), "must be positive");
    }
}
