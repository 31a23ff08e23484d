// Turns an entity's row change into the deltas of one view: the rows it removed count -1, the rows it
// added +1, each under its group key, filtered by the view's WHERE. A pure function of the change and
// the definition, so live ingest and backfills give the same deltas for the same event.
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Views.Actors;
using ContextLake.Views.Algebra;
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Projection;

/// <summary>The deltas one event (Stream, Offset) makes to one group key: the unit a view actor deduplicates.</summary>
public sealed record KeyDeltas(string Stream, long Offset, IReadOnlyList<ViewDelta> Deltas) : IStreamChange;

public static class ViewProjector
{
    public static IEnumerable<(string Key, KeyDeltas Deltas)> Project(ViewDefinition view, RowChange change)
    {
        if (!string.Equals(change.EntityType, view.Source, StringComparison.Ordinal)) yield break;
        var byKey = new Dictionary<string, List<ViewDelta>>(StringComparer.Ordinal);
        if (change.Before is { } before) AddRow(view, change, before, -1, byKey);
        if (change.After is { } after) AddRow(view, change, after, +1, byKey);
        foreach (var (key, deltas) in byKey)
            yield return (key, new KeyDeltas(change.Stream, change.Offset, deltas));
    }

    private static void AddRow(ViewDefinition view, RowChange change, EntityRow row, int weight, Dictionary<string, List<ViewDelta>> byKey)
    {
        JsonElement? Column(string name) => EventColumns.Get(row, change.EntityId, name);
        if (view.Where is { } where && !RowPredicate.Matches(where, Column)) return;
        if (Column(view.KeyColumn) is not { } keyValue || keyValue.ValueKind == JsonValueKind.Null) return;
        var args = view.Aggregates.Select(a => a.Argument is null ? null : Column(a.Argument)).ToList();
        var key = ViewKeys.Render(keyValue);
        if (!byKey.TryGetValue(key, out var list)) byKey[key] = list = new List<ViewDelta>(2);
        list.Add(new ViewDelta(weight, row.Time, row.Version, args));
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
