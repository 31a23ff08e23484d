// Messages of the entity partitions (one sharded persistent actor per key group of entities) and their
// journal rows and snapshot. A stream's run tracker sends each partition its part of a run; the partition
// journals it as one row (with whatever else arrived meanwhile), applies it, sends the row changes' deltas
// straight to the view and vector partitions, and tells the tracker what to wait for.
using System.Text.Json;
using Akka.Actor;
using ContextLake.Platform.Events;
using ContextLake.Platform.Serialization;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

/// <summary>Key type under which the entity partitions' shard region is registered.</summary>
public sealed class EntityRegion
{
    public const string TypeName = "entity";
}

/// <summary>
/// A run's events of one stream for one entity partition, in offset order: a chained message on the stream
/// (<see cref="Prev"/> is where the tracker's previous part for this partition ended). <see cref="Through"/> is the
/// last offset this part speaks for; the partition journals only events above what it already has, and answers
/// <see cref="RunPartApplied"/> with the part's <see cref="Tag"/> (the tracker's name for it).
/// </summary>
public sealed record ApplyRunPart(string Partition, string Stream, long Prev, long Through, IReadOnlyList<IngestEvent> Events, long Tag, IActorRef Tracker)
    : IPartitionMessage, IChained, IPlatformMessage
{
    public string Channel => Stream;
}

/// <summary>
/// The partition has journaled and applied <see cref="Stream"/> up to <see cref="Through"/>; the changes it derived
/// must be journaled by each of <see cref="Targets"/> before the run is applied. <see cref="Keys"/> are the view keys
/// the part changed (for change notices). Long key lists come in several messages, the last with <see cref="Last"/>.
/// </summary>
public sealed record RunPartApplied(string Stream, int Partition, long Tag, int Persisted, int Duplicates,
    IReadOnlyList<DownstreamMark> Targets, IReadOnlyList<string> Keys, bool Last) : IPlatformMessage;

/// <summary>Read entities at epoch <see cref="N"/>; answered with <see cref="EntityReads"/> in the keys' order, or <see cref="ReadTooOld"/>.</summary>
public sealed record ReadEntities(string Partition, long N, IReadOnlyList<EntityKey> Keys) : IPartitionMessage, IPlatformMessage;

public sealed record EntityReads(IReadOnlyList<EntityReadResult> Results) : IPlatformMessage;

public sealed record EntityReadResult(
    EntityKey Key,
    bool Exists,
    IReadOnlyDictionary<string, JsonElement> State,
    long EventCount,
    IngestEvent? LastEvent,
    IReadOnlyDictionary<string, long> Positions) : IPlatformMessage
{
    public static EntityReadResult Of(EntityKey key, EntityValue? value)
    {
        if (value is null)
            return new EntityReadResult(key, false, new Dictionary<string, JsonElement>(), 0, null, new Dictionary<string, long>());
        var last = value.LastEvent is { } e
            ? new IngestEvent(e.Stream, e.Offset, new DateTimeOffset(e.TimeTicks, TimeSpan.Zero), key.Type, key.Id, EventKind.Event, value.LastEventData())
            : null;
        return new EntityReadResult(key, value.Exists, value.Exists || value.FieldCount > 0 ? value.Fields() : new Dictionary<string, JsonElement>(),
            value.EventCount, last, value.Applied.ToDictionary(a => a.Stream, a => a.Offset, StringComparer.Ordinal));
    }
}

/// <summary>A view (or other projection) an entity partition derives changes for: its id, its source entity type, its definition.</summary>
public sealed record ProjectionSpec(string Id, string Source, string Definition);

/// <summary>Where one part of a row's events came from: <see cref="Count"/> events of <see cref="Stream"/>, complete up to <see cref="Through"/>.</summary>
public sealed record RunPartMark(string Stream, long Through, int Count);

/// <summary>
/// Journal row of an entity partition: the new events of one or more run parts, in the order applied, with the
/// parts' boundaries; and, when the catalog changed, the projections added and removed before those events.
/// Rows are readable by SQL: <c>json_each(message, '$.events')</c> gives every event once.
/// </summary>
public sealed record EntityRunRow(IReadOnlyList<IngestEvent> Events, IReadOnlyList<RunPartMark> Parts, ProjectionChange? Projections = null,
    IReadOnlyList<ProjectionBackfilled>? Backfilled = null) : IPlatformMessage;

/// <summary>Projections joining (derived live from this row on; older events come from their backfill) and leaving.</summary>
public sealed record ProjectionChange(long CatalogVersion, IReadOnlyList<ProjectionSpec> Added, IReadOnlyList<string> Removed);

/// <summary>The backfill of a projection from this partition's earlier rows has been delivered in full (<see cref="Events"/> replayed).</summary>
public sealed record ProjectionBackfilled(string Id, long Events);

/// <summary>A projection as an entity partition holds it: live from journal row <see cref="Since"/> on, backfilled or not.</summary>
public sealed record ProjectionState(ProjectionSpec Spec, long Since, bool Backfilled);

/// <summary>
/// An entity partition's state as of a journal row every change of which is committed (and so is every earlier one's):
/// <see cref="CommittedThrough"/> is the epoch its values are committed at, <see cref="Committed"/> that epoch's vector
/// (a replay of the rows after it takes only the events it does not cover), <see cref="Keys"/> the committed entities as
/// <see cref="EntityKeys"/> writes them, <see cref="Streams"/> how far each stream's chain had come as of the row.
/// </summary>
public sealed record EntityPartitionSnapshot(
    long CommittedThrough,
    IReadOnlyDictionary<string, long> Committed,
    byte[] Keys,
    Dictionary<string, long> Streams,
    IReadOnlyList<ProjectionState> Projections,
    long CatalogVersion) : IPlatformMessage;
