// Messages between the consumer actor, the stages that read from it and the control handle; internal
// because only this layer speaks them.
using Akka;
using Akka.Actor;
using Confluent.Kafka;

namespace ContextLake.Connectors.Kafka;

// Stage -> actor.
internal sealed record AttachSource
{
    public static AttachSource Instance { get; } = new();
}
internal sealed record DetachSource
{
    public static DetachSource Instance { get; } = new();
}
internal sealed record RegisterPartition(TopicPartition Partition, long Epoch);
internal sealed record RequestRecords(TopicPartition Partition, long Epoch);
internal sealed record ReleasePartition(TopicPartition Partition, long Epoch);

// Actor -> stages. An epoch names one assignment of a partition to this consumer, so a sub-source of an
// earlier assignment can never receive records of a later one.
internal sealed record PartitionAssigned(TopicPartition Partition, long Epoch);
internal sealed record PartitionRecords(long Epoch, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Records);
internal sealed record PartitionRevoked(long Epoch);
internal sealed record ConsumerStopped(Exception? Cause);

// Control -> actor.
internal sealed record CommitOffsets(IReadOnlyDictionary<TopicPartition, long> NextOffsets);
internal sealed record StopConsumer
{
    public static StopConsumer Instance { get; } = new();
}
internal sealed record GetConsumerStatus
{
    public static GetConsumerStatus Instance { get; } = new();
}

internal sealed class KafkaControl(IActorRef consumer, Task stopped, TimeSpan commitTimeout) : IKafkaControl
{
    public Task Stopped => stopped;

    public Task StopAsync()
    {
        consumer.Tell(StopConsumer.Instance);
        return stopped;
    }

    public async Task CommitAsync(IReadOnlyDictionary<TopicPartition, long> nextOffsets)
    {
        if (nextOffsets.Count == 0) return;
        if (stopped.IsCompleted) throw new InvalidOperationException("the Kafka consumer is stopped; nothing can be committed");
        // Ask, not a bare Tell: a consumer that stops meanwhile turns into a timeout instead of a hang.
        await consumer.Ask<Done>(new CommitOffsets(nextOffsets), commitTimeout);
    }

    public Task<KafkaConsumerStatus> StatusAsync() =>
        consumer.Ask<KafkaConsumerStatus>(GetConsumerStatus.Instance, TimeSpan.FromSeconds(10));
}
