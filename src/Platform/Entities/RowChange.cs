// What one event did to its entity, as rows a view can aggregate: an event row appended, or the
// entity's table row replaced (before → after). Views derive their deltas from these alone.
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.Entities;

/// <summary>A row: an event's data (kind event) or an entity's upserted fields (kind upsert), with its time and version.</summary>
public sealed record EntityRow(EventKind Kind, IReadOnlyDictionary<string, JsonElement> Fields, DateTimeOffset Time, EventVersion Version);

/// <summary>
/// The rows an event (Stream, Offset) removed (<see cref="Before"/>) and added (<see cref="After"/>) for
/// its entity. An event of kind event adds its own row; an upsert or delete replaces the table row.
/// </summary>
public sealed record RowChange(string Stream, long Offset, string EntityType, string EntityId, EntityRow? Before, EntityRow? After)
    : IPlatformMessage;

public static class RowChanges
{
    /// <summary>
    /// Applies <paramref name="e"/> to <paramref name="state"/> and returns the rows it changed, or null when
    /// the table row stayed as it was. Entities and view backfills both use this, so a replayed journal
    /// yields the same changes the entity produced live.
    /// </summary>
    public static RowChange? Apply(EntityState state, IngestEvent e)
    {
        var before = e.Kind == EventKind.Event ? null : state.TableRow;
        var rowChanged = state.Apply(e);
        return e.Kind switch
        {
            EventKind.Event => new RowChange(e.Stream, e.Offset, e.EntityType, e.EntityId, null,
                new EntityRow(EventKind.Event, e.Data.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal), e.EventTime, e.Version)),
            _ when rowChanged => new RowChange(e.Stream, e.Offset, e.EntityType, e.EntityId, before, state.TableRow),
            _ => null,
        };
    }
}
