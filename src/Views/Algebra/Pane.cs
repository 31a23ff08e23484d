// One bucket of event time holding the partial state of every aggregate; windows are read by combining panes.
using System.Text.Json;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Algebra;

/// <summary>
/// The partial state of one aggregate in one pane. Immutable so that clones share it. Every function keeps only
/// the fields it needs: COUNT uses <see cref="Count"/>; SUM and AVG use <see cref="Sum"/> and <see cref="Count"/>
/// (the weight of numeric arguments); COUNT DISTINCT, MIN, MAX and LAST use <see cref="Values"/>. A sum that left the
/// decimal range is <see cref="Overflowed"/> for good: its exact value is lost, so it is never answered as a number.
/// </summary>
internal sealed class AggState(long count, decimal sum, Multiset values, bool overflowed = false)
{
    public static readonly AggState Empty = new(0, 0m, Multiset.Empty);

    public bool Overflowed { get; } = overflowed;

    public long Count { get; } = count;

    public decimal Sum { get; } = sum;

    public Multiset Values { get; } = values;

    public bool IsZero => Count == 0 && Sum == 0m && Values.IsEmpty && !Overflowed;

    public AggState Fold(AggregateColumn column, int weight, JsonElement? argument, ViewDelta delta)
    {
        var isNull = Json.IsNull(argument);
        switch (column.Function)
        {
            case AggregateFunction.Count:
                return column.Argument is null || !isNull ? new AggState(checked(Count + weight), Sum, Values) : this;
            case AggregateFunction.Sum or AggregateFunction.Avg:
                if (isNull || argument!.Value.ValueKind != JsonValueKind.Number || !argument.Value.TryGetDecimal(out var d))
                    return this;
                if (Overflowed) return new AggState(checked(Count + weight), Sum, Values, overflowed: true);
                try
                {
                    // Normalised so that equal sums have one representation whatever scale the inputs were written with.
                    return new AggState(checked(Count + weight), Decimals.Normalise(Sum + weight * d), Values);
                }
                catch (OverflowException)
                {
                    return new AggState(checked(Count + weight), Sum, Values, overflowed: true);
                }
            case AggregateFunction.CountDistinct or AggregateFunction.Min or AggregateFunction.Max:
                return isNull ? this : new AggState(Count, Sum, Values.Add(new EntryKey(null, ValueKey.From(argument!.Value)), weight));
            case AggregateFunction.Last:
                // The latest row wins even when its argument is null: LAST reports what the newest row says.
                var value = isNull ? ValueKey.Null : ValueKey.From(argument!.Value);
                return new AggState(Count, Sum, Values.Add(new EntryKey(delta.RowVersion, value), weight));
            default:
                throw new ArgumentOutOfRangeException(nameof(column), column.Function, "unknown aggregate function");
        }
    }
}

/// <summary>
/// <see cref="Start"/> is in ticks since the Unix epoch. <see cref="Rows"/> is the net row count, kept apart from
/// the aggregates so that sessions know which instants still hold rows.
/// </summary>
internal sealed class Pane(long start, long rows, AggState[] states)
{
    public long Start { get; } = start;

    public long Rows { get; } = rows;

    /// <summary>Never mutated after construction; <see cref="Fold"/> copies.</summary>
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

    public Pane Fold(IReadOnlyList<AggregateColumn> columns, ViewDelta delta)
    {
        var states = new AggState[States.Length];
        for (var i = 0; i < states.Length; i++)
            states[i] = States[i].Fold(columns[i], delta.Weight, delta.Arguments[i], delta);
        return new Pane(Start, checked(Rows + delta.Weight), states);
    }
}

internal sealed class PaneByStart : IComparer<Pane>
{
    public static readonly PaneByStart Instance = new();

    public int Compare(Pane? x, Pane? y) => x!.Start.CompareTo(y!.Start);
}
