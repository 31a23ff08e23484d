// Turns an entity's row change into the deltas of one view: the rows it removed count -1, the rows it
// added +1, each under its group key, filtered by the view's WHERE. A pure function of the change and
// the definition, so live ingest and backfills give the same deltas for the same event.
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;
using ContextLake.Views.Partitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Projection;

public static class ViewProjector
{
    /// <summary>
    /// The deltas <paramref name="change"/> makes to incarnation <paramref name="incarnation"/> of <paramref name="view"/>, one per
    /// group key: none, one (an event row, or an upsert that keeps its key) or two (an upsert that moves the row to another key).
    /// </summary>
    public static KeyDelta[] Project(ViewDefinition view, long incarnation, RowChange change)
    {
        if (!string.Equals(change.EntityType, view.Source, StringComparison.Ordinal)) return [];
        var before = change.Before is { } b ? Row(view, change, b, -1) : null;
        var after = change.After is { } a ? Row(view, change, a, +1) : null;
        return (before, after) switch
        {
            (null, null) => [],
            ({ } x, null) => [Delta(view, incarnation, change, x.Key, [x.Delta])],
            (null, { } y) => [Delta(view, incarnation, change, y.Key, [y.Delta])],
            ({ } x, { } y) when x.Key == y.Key => [Delta(view, incarnation, change, x.Key, [x.Delta, y.Delta])],
            ({ } x, { } y) => [Delta(view, incarnation, change, x.Key, [x.Delta]), Delta(view, incarnation, change, y.Key, [y.Delta])],
        };
    }

    private static KeyDelta Delta(ViewDefinition view, long incarnation, RowChange change, string key, ViewDelta[] deltas) =>
        new(view.Name, incarnation, key, change.Stream, change.Offset, deltas);

    private static (string Key, ViewDelta Delta)? Row(ViewDefinition view, RowChange change, EntityRow row, int weight)
    {
        if (view.Where is { } where && !RowPredicate.Matches(where, name => EventColumns.Get(row, change.EntityId, name))) return null;
        if (EventColumns.Get(row, change.EntityId, view.KeyColumn) is not { } keyValue || keyValue.ValueKind == JsonValueKind.Null) return null;
        // Reduced now, while the row is at hand: the delta keeps no reference to the event's document.
        var args = new ValueKey[view.Aggregates.Count];
        for (var i = 0; i < args.Length; i++)
            if (view.Aggregates[i].Argument is { } argument) args[i] = ValueKey.From(EventColumns.Get(row, change.EntityId, argument));
        return (ViewKeys.Render(keyValue), new ViewDelta(weight, row.Time, row.Version, args));
    }
}

/// <summary>How a group key value is written in URLs and answers: strings as they are, numbers normalised.</summary>
public static class ViewKeys
{
    public static string Render(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number when value.TryGetDecimal(out var d) => (d / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };
}
