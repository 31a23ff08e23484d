// Messages and journal records of an HTTP write stream's write log ("http:writes", or "http:writes/k" of several).
using System.Text.Json;
using ContextLake.Connectors.Serialization;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;

namespace ContextLake.Connectors.Http;

/// <summary>One event as a client wrote it: no stream position yet.</summary>
public sealed record PendingWrite(
    string EntityType,
    string EntityId,
    EventKind Kind,
    DateTimeOffset EventTime,
    JsonElement Data,
    string? IdempotencyKey);

/// <summary>
/// Append a client batch to write stream <see cref="Partition"/> (its entity id in the "writes" region): all of it or none.
/// Replies <see cref="WritesAppended"/> once every event is journaled by its entity.
/// </summary>
public sealed record AppendWrites(string Partition, IReadOnlyList<PendingWrite> Writes) : IConnectorMessage, IPartitionMessage;

/// <summary>
/// The position of each written event, in request order. An event whose idempotency key was seen
/// before carries the position first given to that key and was not written again.
/// </summary>
public sealed record WritesAppended(string Stream, IReadOnlyList<long> Offsets, int Written) : IConnectorMessage
{
    public long First => Offsets.Count == 0 ? 0 : Offsets.Min();
    public long Last => Offsets.Count == 0 ? 0 : Offsets.Max();
}

/// <summary>Why a batch was refused, with nothing of it written.</summary>
public enum WriteRefusal
{
    /// <summary>The stream holds its share of Writes:MaxPendingEvents accepted-but-unapplied events: back off and send it again.</summary>
    Saturated,

    /// <summary>The journal did not take the group the batch was in.</summary>
    JournalUnavailable,
}

/// <summary>
/// The answer to <see cref="AppendWrites"/> when nothing of the batch was written: a message, not a failure, so that it crosses
/// nodes like any answer (a stream may run on another node than the gateway that asked).
/// </summary>
public sealed record WritesRefused(string Stream, WriteRefusal Reason, string Detail) : IConnectorMessage;

/// <summary>Write stream <see cref="Partition"/>'s current position: the highest offset assigned and the highest applied to entities.</summary>
public sealed record GetWriteLogPosition(string Partition) : IConnectorMessage, IPartitionMessage;

public sealed record WriteLogPosition(string Stream, long Assigned, long Applied) : IConnectorMessage;

/// <summary>
/// Journal row of the write log: one client batch (its new events only), with the idempotency key of each.
/// One row makes the batch atomic: on recovery it is all there or not at all.
/// </summary>
public sealed record WriteBatchRecord(IReadOnlyList<IngestEvent> Events, IReadOnlyList<string?> Keys) : IConnectorMessage;

public sealed record IdempotencyEntry(string Key, long Offset);

public sealed record WriteLogSnapshot(
    long NextOffset,
    long AppliedUpTo,
    IReadOnlyList<IdempotencyEntry> Keys,
    IReadOnlyList<WriteBatchRecord> Unapplied) : IConnectorMessage;
