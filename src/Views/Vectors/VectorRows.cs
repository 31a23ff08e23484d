// An entity's rows in a vector view as a weighted multiset: each change retracts its before row (-1) and
// adds its after row (+1). Summing weights is order-free, so changes delivered in any order (live ingest
// racing a backfill) give one answer; the row an entity shows is its newest row of positive weight.
namespace ContextLake.Views.Vectors;

public sealed class VectorRows
{
    private readonly List<WeightedRow> _rows;

    public VectorRows(IEnumerable<WeightedRow>? rows = null) => _rows = rows?.ToList() ?? new List<WeightedRow>(1);

    public IReadOnlyList<WeightedRow> Rows => _rows;

    public bool IsEmpty => _rows.Count == 0;

    public VectorRows Clone() => new(_rows);

    public void Apply(VectorChange change)
    {
        if (change.Before is { } before) Add(before, -1);
        if (change.After is { } after) Add(after, +1);
    }

    /// <summary>The row the entity shows: among rows of positive weight, the one with the highest version.</summary>
    public VectorRow? Visible()
    {
        VectorRow? best = null;
        foreach (var (row, weight) in _rows)
            if (weight > 0 && (best is null || row.Version.CompareTo(best.Version) > 0)) best = row;
        return best;
    }

    private void Add(VectorRow row, int weight)
    {
        for (var i = 0; i < _rows.Count; i++)
        {
            if (!_rows[i].Row.SameAs(row)) continue;
            var sum = _rows[i].Weight + weight;
            if (sum == 0) _rows.RemoveAt(i);
            else _rows[i] = _rows[i] with { Weight = sum };
            return;
        }
        _rows.Add(new WeightedRow(row, weight));
    }
}
