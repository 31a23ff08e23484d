// Combining one aggregate's partial states across the panes of a window into the value a reader sees.
using System.Text.Json;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Algebra;

internal static class PaneReads
{
    public static JsonElement Read(AggregateFunction function, IReadOnlyList<AggState> states) => function switch
    {
        AggregateFunction.Count => Json.Number(states.Sum(s => s.Count)),
        AggregateFunction.Sum => Json.Number(SumOf(states)),
        AggregateFunction.Avg => states.Sum(s => s.Count) is var n && n != 0 ? Json.Number(SumOf(states) / n) : Json.Null,
        AggregateFunction.CountDistinct => Json.Number(CountDistinct(states)),
        AggregateFunction.Min => Extreme(states, lowest: true),
        AggregateFunction.Max or AggregateFunction.Last => Extreme(states, lowest: false),
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "unknown aggregate function"),
    };

    /// <summary>The panes' exact sums added, then rounded; throws <see cref="OverflowException"/> when the total is outside the decimal range.</summary>
    private static decimal SumOf(IReadOnlyList<AggState> states)
    {
        if (states.Count == 1) return states[0].Sum.Value;
        var sum = ExactSum.Zero;
        foreach (var s in states) sum = sum.Add(s.Sum);
        return sum.Value;
    }

    private static long CountDistinct(IReadOnlyList<AggState> states)
    {
        if (states.Count == 1) return states[0].Values.Positive;
        return Merge(states).Count(kv => kv.Value > 0);
    }

    /// <summary>
    /// MIN, MAX and LAST (MAX over row version). When no pane holds a pending retraction, a value's net weight over the
    /// window is positive exactly when some pane holds it, so the extreme of the pane extremes is exact; otherwise
    /// weights are summed across panes first.
    /// </summary>
    private static JsonElement Extreme(IReadOnlyList<AggState> states, bool lowest)
    {
        if (states.All(s => s.Values.Negative == 0))
        {
            EntryKey? best = null;
            foreach (var s in states)
            {
                var candidate = lowest ? s.Values.FirstPositive() : s.Values.LastPositive();
                if (candidate is not { } c) continue;
                if (best is not { } b || (lowest ? c.Key.CompareTo(b) < 0 : c.Key.CompareTo(b) > 0)) best = c.Key;
            }
            return best is { } found ? found.Value.ToJson() : Json.Null;
        }

        var positive = Merge(states).Where(kv => kv.Value > 0).Select(kv => kv.Key).ToList();
        if (positive.Count == 0) return Json.Null;
        return (lowest ? positive.Min() : positive.Max()).Value.ToJson();
    }

    private static Dictionary<EntryKey, long> Merge(IReadOnlyList<AggState> states)
    {
        var merged = new Dictionary<EntryKey, long>();
        foreach (var s in states)
            foreach (var e in s.Values.Entries)
                merged[e.Key] = merged.GetValueOrDefault(e.Key) + e.Weight;
        return merged;
    }
}
