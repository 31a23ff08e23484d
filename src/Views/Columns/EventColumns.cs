// How a view sees an event as a row: the fields of its data are columns, with event_time, entity_id
// and kind beside them (the column names of the view dialect).
using System.Text.Json;
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
}
