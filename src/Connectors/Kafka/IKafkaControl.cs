// The handle a materialized Kafka source gives back: stop the consumer, commit what was processed,
// and look at how much it holds per partition.
using Confluent.Kafka;

namespace ContextLake.Connectors.Kafka;

public interface IKafkaControl
{
    /// <summary>Stops consuming and closes the consumer, leaving the group so its partitions rebalance to others.
    /// Completes once the consumer is closed; every sub-source and the outer source complete.</summary>
    Task StopAsync();

    /// <summary>Completes when the consumer is closed, whatever closed it.</summary>
    Task Stopped { get; }

    /// <summary>Commits the next offset to read per partition (Kafka's convention: last processed offset + 1).
    /// Commits arriving together go out as one request; a rebalance in progress delays, not fails, them.</summary>
    Task CommitAsync(IReadOnlyDictionary<TopicPartition, long> nextOffsets);

    /// <summary>Assigned and paused partitions, the records the consumer holds for each, and each partition's end
    /// (the high watermark the last fetch saw: the offset the next produced record gets).</summary>
    Task<KafkaConsumerStatus> StatusAsync();
}

public sealed record KafkaConsumerStatus(
    IReadOnlyList<TopicPartition> Assigned,
    IReadOnlyList<TopicPartition> Paused,
    IReadOnlyDictionary<TopicPartition, int> Buffered,
    IReadOnlyDictionary<TopicPartition, long> End);
