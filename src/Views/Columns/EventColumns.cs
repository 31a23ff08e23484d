// How a view sees an event as a row: the fields of its data are columns, with event_time, entity_id
// and kind beside them (the column names of the view dialect).
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;

namespace ContextLake.Views.Columns;

public static class EventColumns
{
    public const string EventTime = "event_time";
    public const string EntityId = "entity_id";
    public const string Kind = "kind";

    public static IReadOnlyList<string> BuiltIn { get; } = [EventTime, EntityId, Kind];

    /// <summary>
    /// The value of <paramref name="column"/> for <paramref name="e"/>, or null when the event has no such field.
    /// A data field never shadows a built-in column.
    /// </summary>
    public static JsonElement? Get(IngestEvent e, string column) => column switch
    {
        EventTime => JsonSerializer.SerializeToElement(e.EventTime.UtcDateTime.ToString("O")),
        EntityId => JsonSerializer.SerializeToElement(e.EntityId),
        Kind => JsonSerializer.SerializeToElement(e.Kind.ToString().ToLowerInvariant()),
        _ => e.Data.ValueKind == JsonValueKind.Object && e.Data.TryGetProperty(column, out var v) ? v : null,
    };

    /// <summary>The value of <paramref name="column"/> in an entity row (an event's data or an entity's upserted fields).</summary>
    public static JsonElement? Get(EntityRow row, string entityId, string column) => column switch
    {
        EventTime => JsonSerializer.SerializeToElement(row.Time.UtcDateTime.ToString("O")),
        EntityId => JsonSerializer.SerializeToElement(entityId),
        Kind => JsonSerializer.SerializeToElement(row.Kind.ToString().ToLowerInvariant()),
        _ => row.Fields.TryGetValue(column, out var v) ? v : null,
    };
}
