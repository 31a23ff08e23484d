// What every partition speaks: chained messages (each says where the previous one from the same sender
// on the same channel ended, so a lost message is noticed instead of hidden by a high-water mark), the
// facts partitions report to a stream's run tracker, and the refusal of a read older than the state kept.
using Akka.Actor;
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.State;

/// <summary>A message addressed to one partition of a shard region: its id is the sharding entity id.</summary>
public interface IPartitionMessage
{
    string Partition { get; }
}

/// <summary>
/// One message of a chain: the sender's work on <see cref="Channel"/> (a stream, or a backfill) for this receiver,
/// after everything up to <see cref="Prev"/> and up to <see cref="Through"/>. Positions only grow along a chain.
/// </summary>
public interface IChained
{
    string Channel { get; }
    long Prev { get; }
    long Through { get; }
}

public enum ChainVerdict
{
    /// <summary>New work that follows what the receiver has: take it.</summary>
    Fresh,

    /// <summary>The receiver has all of it already (a redelivery): confirm, change nothing.</summary>
    Duplicate,

    /// <summary>An earlier message of the chain never arrived: refuse, so the sender sends the chain again in order.</summary>
    Gap,
}

public static class Chains
{
    /// <summary>
    /// The one acceptance rule of every chain: <paramref name="have"/> is how far the receiver has taken the chain,
    /// <paramref name="committed"/> how far the committed epoch covers the channel (everything up to it is durable
    /// everywhere, so a sender that restarted and lost its place may start there).
    /// </summary>
    public static ChainVerdict Judge(IChained message, long have, long committed) =>
        message.Through <= have ? ChainVerdict.Duplicate
        : message.Prev <= have || message.Prev <= committed ? ChainVerdict.Fresh
        : ChainVerdict.Gap;
}

/// <summary>Where a partition's derived changes go: a partition of another region (view, vector).</summary>
public readonly record struct DownstreamTarget(string Region, string Partition)
{
    public override string ToString() => $"{Region}/{Partition}";
}

/// <summary>A run's part for an entity partition produced changes for <see cref="Region"/>/<see cref="Partition"/> up to <see cref="Through"/>.</summary>
public sealed record DownstreamMark(string Region, string Partition, long Through);

/// <summary>
/// A chained batch of changes from one source partition to one downstream partition. <see cref="ReplyTo"/> is told
/// <see cref="DownstreamApplied"/> once the receiver has journaled it (or had it already).
/// </summary>
public interface IDownstreamBatch : IPartitionMessage, IChained
{
    int Source { get; }

    IActorRef? ReplyTo { get; }

    IDownstreamBatch WithReplyTo(IActorRef? replyTo);
}

/// <summary>
/// A downstream partition has every batch from entity partition <see cref="Source"/> on <see cref="Channel"/> up to
/// <see cref="Have"/> journaled: a monotone fact, so a repeated or late one does no harm.
/// </summary>
public sealed record DownstreamApplied(string Channel, int Source, string Region, string Partition, long Have) : IPlatformMessage;

/// <summary>The asked epoch is older than the state the partition still holds: the read is refused.</summary>
public sealed record ReadTooOld(long OldestReadable) : IPlatformMessage;

/// <summary>Starts a partition (sharding starts it on its first message) and answers <see cref="PartitionStarted"/> once it has recovered.</summary>
public sealed record StartPartition(string Partition) : IPartitionMessage, IPlatformMessage;

public sealed record PartitionStarted(string Region, string Partition, int Keys, long CommittedThrough) : IPlatformMessage;

/// <summary>A standby's answer to a read at an epoch it has not reached: it holds versions through <see cref="CommittedThrough"/>.</summary>
public sealed record StandbyBehind(long CommittedThrough) : IPlatformMessage;

/// <summary>Asks a standby on the same node for its state, for a new owner taking over (local only).</summary>
public sealed record HandOver
{
    public static HandOver Instance { get; } = new();
}

/// <summary>A standby's committed state as a snapshot as of journal row <see cref="Row"/> would hold it (local only).</summary>
public sealed record HandedOver(object Snapshot, long Row);
