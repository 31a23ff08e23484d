// The Kafka connector: each topic partition is a stream kafka:{connector}/{topic}/{partition}. A
// partition (re)assigned to this node resumes after what the committed epoch covers, and its Kafka
// offset is committed only once an epoch covers it. Stream offsets are Kafka offsets + 1, so that 0
// means "nothing" in a vector clock.
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using ContextLake.Connectors.Framework;

namespace ContextLake.Connectors.Kafka;

public sealed class KafkaConnectorFactory(Func<string> defaultBootstrapServers) : IConnectorFactory
{
    public string Type => "kafka";

    public void Validate(ConnectorConfig config)
    {
        Topics(config);
        RecordMapping.From(config);
        config.OptionalInt("batch", 500, 1, 100_000);
        Properties(config);
    }

    /// <summary>"properties": extra librdkafka settings (strings), e.g. {"session.timeout.ms": "6000"}.</summary>
    internal static IReadOnlyDictionary<string, string> Properties(ConnectorConfig config)
    {
        if (!config.Config.TryGetProperty("properties", out var p) || p.ValueKind == System.Text.Json.JsonValueKind.Null)
            return new Dictionary<string, string>();
        if (p.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw new ConnectorConfigException(config.Name, "properties", "must be an object of librdkafka settings");
        return p.EnumerateObject().ToDictionary(
            e => e.Name,
            e => e.Value.ValueKind == System.Text.Json.JsonValueKind.String ? e.Value.GetString()! : e.Value.GetRawText());
    }

    public IConnectorRun Start(ConnectorConfig config, ConnectorContext context)
    {
        Validate(config);
        var settings = new KafkaSourceSettings(
            config.OptionalString("bootstrapServers") ?? defaultBootstrapServers(),
            config.OptionalString("groupId") ?? $"contextlake-{config.Name}",
            Topics(config),
            MaxBufferPerPartition: config.OptionalInt("maxBufferPerPartition", 1000, 1, 1_000_000))
        {
            Properties = Properties(config),
        };
        return new KafkaRun(config, context, settings);
    }

    internal static IReadOnlyList<string> Topics(ConnectorConfig config)
    {
        var topics = (config.OptionalString("topics") ?? config.RequiredString("topic"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (topics.Length == 0) throw new ConnectorConfigException(config.Name, "topics", "names no topic");
        return topics;
    }

    public static string StreamOf(string connector, TopicPartition tp) => $"kafka:{connector}/{tp.Topic}/{tp.Partition.Value}";
}

internal sealed class KafkaRun : IConnectorRun
{
    private readonly TaskCompletionSource<IKafkaControl> _control = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();

    public KafkaRun(ConnectorConfig config, ConnectorContext context, KafkaSourceSettings settings)
    {
        Completion = Run(config, context, settings);
    }

    public Task Completion { get; }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_control.Task.IsCompletedSuccessfully) await _control.Task.Result.StopAsync();
    }

    private async Task Run(ConnectorConfig config, ConnectorContext context, KafkaSourceSettings settings)
    {
        await context.EpochKnownAsync(_stop.Token);
        var mapping = RecordMapping.From(config);
        var batch = config.OptionalInt("batch", 500, 1, 100_000);
        var log = Logging.GetLogger(context.System, typeof(KafkaRun));
        var materializer = context.System.Materializer();
        IKafkaControl? control = null;

        var (ctl, done) = KafkaSources
            .Partitioned(context.System, settings, tp =>
            {
                var committed = context.ResumeAfter(KafkaConnectorFactory.StreamOf(context.Name, tp));
                return committed > 0 ? committed : null;
            })
            .SelectAsyncUnordered(1024, async pair =>
            {
                var stream = new ConnectorStream(context, KafkaConnectorFactory.StreamOf(context.Name, pair.Partition), mapping);
                await pair.Records
                    .GroupedWithin(batch, TimeSpan.FromMilliseconds(20))
                    .SelectAsync(1, async records =>
                    {
                        var raw = records.Select(r => new RawRecord(r.Offset.Value + 1, r.Message.Value ?? [])).ToList();
                        await stream.WriteAsync(raw, CancellationToken.None);
                        CommitWhenCovered(context, control!, pair.Partition, stream.Stream, raw[^1].Offset, log);
                        return raw.Count;
                    })
                    .RunWith(Sink.Ignore<int>(), materializer);
                return pair.Partition;
            })
            .ToMaterialized(Sink.Ignore<TopicPartition>(), Keep.Both)
            .Run(materializer);
        control = ctl;
        _control.SetResult(ctl);
        await done;
    }

    /// <summary>Kafka's committed offset never runs ahead of the committed epoch: a restart resumes from the epoch.</summary>
    private static void CommitWhenCovered(ConnectorContext context, IKafkaControl control, TopicPartition tp, string stream, long upTo, ILoggingAdapter log) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await context.Clock.WaitAsync(e => e.Covers(stream, upTo), TimeSpan.FromMinutes(1), CancellationToken.None);
                await control.CommitAsync(new Dictionary<TopicPartition, long> { [tp] = upTo });
            }
            catch (Exception ex)
            {
                log.Warning("committing {0} up to offset {1} failed: {2}", stream, upTo - 1, ex.Message);
            }
        });
}
