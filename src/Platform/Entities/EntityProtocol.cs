// Messages of the Entity actor: apply a batch of events, read the state.
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
/// are dropped, so redelivery after a crash or retry is harmless. Replies <see cref="EventsApplied"/>
/// once the new events are journaled.
/// </summary>
public sealed record ApplyEvents(EntityKey Key, IReadOnlyList<IngestEvent> Events) : IEntityCommand;

public sealed record EventsApplied(EntityKey Key, int Persisted, int Duplicates) : IPlatformMessage;

public sealed record GetEntity(EntityKey Key) : IEntityCommand;

public sealed record EntityReadResult(
    EntityKey Key,
    bool Exists,
    IReadOnlyDictionary<string, JsonElement> State,
    long EventCount,
    IngestEvent? LastEvent,
    IReadOnlyDictionary<string, long> Positions) : IPlatformMessage;
