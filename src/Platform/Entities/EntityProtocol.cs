// Messages of the Entity actor: apply a batch of events, read the state at an epoch.
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.Entities;

/// <summary>Addressed to one entity through the shard region.</summary>
public interface IEntityCommand : IPlatformMessage
{
    EntityKey Key { get; }
}

/// <summary>
/// Apply events of one entity, in offset order per stream. Already-applied (stream, offset) pairs
/// are not journaled again, so redelivery after a crash or retry is harmless. Replies
/// <see cref="EventsApplied"/> once the new events are journaled.
/// </summary>
public sealed record ApplyEvents(EntityKey Key, IReadOnlyList<IngestEvent> Events) : IEntityCommand;

/// <summary>
/// <see cref="Changes"/> holds the row changes of the command's events, new ones and redelivered ones
/// alike (the same change each time, so views receive what they may have missed), except redelivered
/// events already older than the history horizon, which every view has.
/// </summary>
public sealed record EventsApplied(EntityKey Key, int Persisted, int Duplicates, IReadOnlyList<RowChange> Changes) : IPlatformMessage;

/// <summary>Read the entity as of <see cref="Vector"/> (null: everything applied so far).</summary>
public sealed record GetEntity(EntityKey Key, IReadOnlyDictionary<string, long>? Vector = null) : IEntityCommand;

public sealed record EntityReadResult(
    EntityKey Key,
    bool Exists,
    IReadOnlyDictionary<string, JsonElement> State,
    long EventCount,
    IngestEvent? LastEvent,
    IReadOnlyDictionary<string, long> Positions) : IPlatformMessage;

/// <summary>An applied event not yet folded into the entity's base state, with the change it made.</summary>
public sealed record PendingEvent(IngestEvent Event, RowChange? Change);

/// <summary>Snapshot of an entity: base state (folded up to the history horizon) and the events after it.</summary>
public sealed record EntityMvccSnapshot(EntitySnapshot Base, IReadOnlyList<PendingEvent> Pending) : IPlatformMessage;

/// <summary>The asked epoch is older than the state this actor still holds (it was folded): the read is refused.</summary>
public sealed record ReadTooOld(long OldestReadable) : IPlatformMessage;
