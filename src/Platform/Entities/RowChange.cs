// What one event did to its entity, as rows a view can aggregate: an event row appended, or the
// entity's table row replaced (before → after). Views derive their deltas from these alone.
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Entities;

/// <summary>A row: an event's data (kind event) or an entity's upserted fields (kind upsert), with its time and version.</summary>
public sealed record EntityRow(EventKind Kind, IReadOnlyDictionary<string, JsonElement> Fields, DateTimeOffset Time, EventVersion Version);

/// <summary>
/// The rows an event (Stream, Offset) removed (<see cref="Before"/>) and added (<see cref="After"/>) for
/// its entity. An event of kind event adds its own row; an upsert or delete replaces the table row.
/// </summary>
public sealed record RowChange(string Stream, long Offset, string EntityType, string EntityId, EntityRow? Before, EntityRow? After);

public static class RowChanges
{
    /// <summary>
    /// Applies <paramref name="e"/> to <paramref name="before"/> (the entity's current value, null when never written),
    /// returning the new value and, through <paramref name="change"/>, the rows it changed (null when the table row stayed
    /// as it was). Entity partitions and backfills both use this, so a replayed journal yields the same changes.
    /// </summary>
    public static EntityValue Apply(EntityValue? before, IngestEvent e, out RowChange? change)
    {
        var after = EntityValue.Apply(before, e, out var rowChanged);
        change = e.Kind switch
        {
            EventKind.Event => new RowChange(e.Stream, e.Offset, e.EntityType, e.EntityId, null,
                new EntityRow(EventKind.Event, new ObjectFields(e.Data), e.EventTime, e.Version)),
            _ when rowChanged => new RowChange(e.Stream, e.Offset, e.EntityType, e.EntityId, before?.TableRow(), after.TableRow()),
            _ => null,
        };
        return after;
    }

    /// <summary>An event's data object seen as the row's fields, without copying it into a dictionary.</summary>
    private sealed class ObjectFields(JsonElement data) : IReadOnlyDictionary<string, JsonElement>
    {
        public JsonElement this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);

        public IEnumerable<string> Keys => this.Select(p => p.Key);

        public IEnumerable<JsonElement> Values => this.Select(p => p.Value);

        public int Count => data.ValueKind == JsonValueKind.Object ? data.GetPropertyCount() : 0;

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out JsonElement value)
        {
            value = default;
            return data.ValueKind == JsonValueKind.Object && data.TryGetProperty(key, out value);
        }

        public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator()
        {
            if (data.ValueKind != JsonValueKind.Object) yield break;
            foreach (var p in data.EnumerateObject()) yield return new KeyValuePair<string, JsonElement>(p.Name, p.Value);
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
