// Turns an entity's row change into the change it makes to one vector view: its rows as vector rows, kept
// only when the view's WHERE holds and the indexed field is an array of exactly `dimensions` numbers that
// the metric can use (a row without a usable vector is not in the view, as a row without a group key is
// not in a grouped view). A pure function of the change and the definition, for live ingest and backfill.
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Vectors;

public static class VectorProjector
{
    public static VectorChange? Project(ViewDefinition view, RowChange change)
    {
        if (view.Vector is null || !string.Equals(change.EntityType, view.Source, StringComparison.Ordinal)) return null;
        var before = change.Before is { } b ? Row(view, change.EntityId, b) : null;
        var after = change.After is { } a ? Row(view, change.EntityId, a) : null;
        return before is null && after is null ? null : new VectorChange(change.Stream, change.Offset, change.EntityId, before, after);
    }

    private static VectorRow? Row(ViewDefinition view, string entityId, EntityRow row)
    {
        if (view.Where is { } where && !RowPredicate.Matches(where, column => EventColumns.Get(row, entityId, column))) return null;
        if (!row.Fields.TryGetValue(view.KeyColumn, out var value) || TryRead(value, view.Vector!) is not { } vector) return null;
        var fields = row.Fields.Where(f => f.Key != view.KeyColumn).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        return new VectorRow(row.Version, vector, fields);
    }

    /// <summary>The vector in <paramref name="value"/> prepared for the metric, or null when it is not a usable vector.</summary>
    public static float[]? TryRead(JsonElement value, VectorSpec spec) =>
        TryRead(value, spec, out var vector) is null ? vector : null;

    /// <summary>Reads a JSON array as a vector of the view; returns why it cannot be one, or null with the prepared vector.</summary>
    public static string? TryRead(JsonElement value, VectorSpec spec, out float[] vector)
    {
        vector = [];
        if (value.ValueKind != JsonValueKind.Array) return $"must be an array of {spec.Dimensions} numbers";
        var length = value.GetArrayLength();
        if (length != spec.Dimensions) return $"has {length} numbers, the view's vectors have {spec.Dimensions}";
        var result = new float[length];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out var x)) return $"item {i} is not a number";
            result[i++] = x;
        }
        if (VectorMath.TryPrepare(spec.Metric, result) is { } problem) return problem;
        vector = result;
        return null;
    }
}
