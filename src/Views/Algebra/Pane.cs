// One bucket of event time holding the partial state of every aggregate; windows are read by combining panes.
using System.Text.Json;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Algebra;

/// <summary>
/// The partial state of one aggregate in one pane. Immutable so that clones share it. Every function keeps only
/// the fields it needs: COUNT uses <see cref="Count"/>; SUM and AVG use <see cref="Sum"/> and <see cref="Count"/>
/// (the weight of numeric arguments); COUNT DISTINCT, MIN, MAX and LAST use <see cref="Values"/>. The sum is exact
/// (<see cref="ExactSum"/>), so a pane's state does not depend on the order its rows arrived in.
/// States change only through <see cref="PaneBuilder"/>.
/// </summary>
internal sealed class AggState(long count, ExactSum sum, Multiset values)
{
    public static readonly AggState Empty = new(0, ExactSum.Zero, Multiset.Empty);

    public long Count { get; } = count;

    public ExactSum Sum { get; } = sum;

    public Multiset Values { get; } = values;

    public bool IsZero => Count == 0 && Sum.IsZero && Values.IsEmpty;
}

/// <summary>
/// <see cref="Start"/> is in ticks since the Unix epoch. <see cref="Rows"/> is the net row count, kept apart from
/// the aggregates so that sessions know which instants still hold rows.
/// </summary>
internal sealed class Pane(long start, long rows, AggState[] states)
{
    public long Start { get; } = start;

    public long Rows { get; } = rows;

    /// <summary>Never mutated after construction; <see cref="PaneBuilder"/> copies.</summary>
    public AggState[] States { get; } = states;

    public bool IsEmpty
    {
        get
        {
            if (Rows != 0) return false;
            foreach (var s in States)
                if (!s.IsZero) return false;
            return true;
        }
    }

    public static Pane Empty(long start, int aggregates)
    {
        var states = new AggState[aggregates];
        Array.Fill(states, AggState.Empty);
        return new Pane(start, 0, states);
    }

    public static Pane Probe(long start) => new(start, 0, []);
}

/// <summary>
/// The one place rows are folded into aggregates: a pane's states made mutable for a batch of weighted rows (one or
/// thousands), then frozen again. Counts and sums are plain fields, multisets are tree builders, so a batch costs one
/// copy of the pane, not one per row.
/// </summary>
internal sealed class PaneBuilder
{
    private readonly IReadOnlyList<AggregateColumn> _columns;
    private readonly Pane _from;
    private readonly long[] _counts;
    private readonly ExactSum[] _sums;
    private readonly Multiset.Builder?[] _values;
    private long _rows;

    public PaneBuilder(IReadOnlyList<AggregateColumn> columns, Pane from)
    {
        _columns = columns;
        _from = from;
        _rows = from.Rows;
        var n = from.States.Length;
        _counts = new long[n];
        _sums = new ExactSum[n];
        _values = new Multiset.Builder?[n];
        for (var i = 0; i < n; i++)
        {
            _counts[i] = from.States[i].Count;
            _sums[i] = from.States[i].Sum;
        }
    }

    public void Fold(ViewDelta delta)
    {
        _rows = checked(_rows + delta.Weight);
        for (var i = 0; i < _counts.Length; i++) Fold(i, delta.Weight, delta.Arguments[i], delta);
    }

    private void Fold(int i, int weight, ValueKey argument, ViewDelta delta)
    {
        var column = _columns[i];
        var isNull = argument.IsNull;
        switch (column.Function)
        {
            case AggregateFunction.Count:
                if (column.Argument is null || !isNull) _counts[i] = checked(_counts[i] + weight);
                return;
            case AggregateFunction.Sum or AggregateFunction.Avg:
                // A number beyond the decimal range is not a number here (ValueRank.Other): the edge refuses such events anyway.
                if (argument.Rank != ValueRank.Number) return;
                _counts[i] = checked(_counts[i] + weight);
                _sums[i] = _sums[i].Add(argument.Number, weight);
                return;
            case AggregateFunction.CountDistinct or AggregateFunction.Min or AggregateFunction.Max:
                if (!isNull) ValuesOf(i).Add(new EntryKey(null, argument), weight);
                return;
            case AggregateFunction.Last:
                // The latest row wins even when its argument is null: LAST reports what the newest row says.
                ValuesOf(i).Add(new EntryKey(delta.RowVersion, argument), weight);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(delta), column.Function, "unknown aggregate function");
        }
    }

    private Multiset.Builder ValuesOf(int i) => _values[i] ??= _from.States[i].Values.ToBuilder();

    public Pane Build()
    {
        var states = new AggState[_counts.Length];
        for (var i = 0; i < states.Length; i++)
        {
            var was = _from.States[i];
            var values = _values[i]?.ToMultiset() ?? was.Values;
            states[i] = _counts[i] == was.Count && _sums[i] == was.Sum && _values[i] is null
                ? was
                : new AggState(_counts[i], _sums[i], values);
        }
        return new Pane(_from.Start, _rows, states);
    }
}

internal sealed class PaneByStart : IComparer<Pane>
{
    public static readonly PaneByStart Instance = new();

    public int Compare(Pane? x, Pane? y) => x!.Start.CompareTo(y!.Start);
}
