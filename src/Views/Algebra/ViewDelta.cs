// The change one event makes to one group key of one view: weighted rows (+1 adds, -1 retracts).
using System.Text.Json;
using System.Text.Json.Serialization;
using ContextLake.Platform.Events;
using ContextLake.Platform.Serialization;

namespace ContextLake.Views.Algebra;

/// <summary>
/// One weighted row. <see cref="Arguments"/>[i] is the value of the view's aggregate i argument in the row
/// (null when the row lacks it or it is JSON null; always null for COUNT(*)). <see cref="RowVersion"/> orders
/// LAST; <see cref="EventTime"/> places the row in a window. In rows and messages it is written compactly (view
/// partitions journal one per event and group key): {"w": weight, "t": event time in UTC ticks, "r": row version, "a": arguments}.
/// </summary>
public sealed record ViewDelta(
    [property: JsonPropertyName("w")] int Weight,
    [property: JsonPropertyName("t"), JsonConverter(typeof(UtcTicksJsonConverter))] DateTimeOffset EventTime,
    [property: JsonPropertyName("r")] EventVersion RowVersion,
    [property: JsonPropertyName("a")] IReadOnlyList<JsonElement?> Arguments);
