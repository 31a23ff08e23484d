// The aggregate algebra on its own: applying a run of deltas to one group key's aggregate, as a view key
// actor does for every event it is sent (SUM/COUNT, and the ordered ones: MAX, LAST, AVG).
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Benchmarks.Micro;

[MemoryDiagnoser]
public class AggregateAlgebraBenchmarks
{
    public const int DeltasPerOperation = 100;

    private ViewDelta[] _deltas = [];
    private ViewDefinition _view = null!;

    [Params("sum_count", "avg_max_last")]
    public string View { get; set; } = "sum_count";

    [GlobalSetup]
    public void Setup()
    {
        _view = ViewSql.Parse(View == "sum_count"
            ? "CREATE VIEW credits AS SELECT to_account, SUM(amount) AS total, COUNT(*) AS n FROM transfer GROUP BY to_account"
            : "CREATE VIEW merchant_totals AS SELECT merchant_id, AVG(amount) AS average, MAX(amount) AS largest, LAST(card_id) AS last_card FROM card_tx GROUP BY merchant_id");
        _deltas = Workload.Deltas(_view, DeltasPerOperation, seed: 1);
    }

    [Benchmark(OperationsPerInvoke = DeltasPerOperation, Description = "apply one delta")]
    public GroupAggregate Apply()
    {
        var aggregate = new GroupAggregate(_view);
        foreach (var d in _deltas) aggregate.Apply(d);
        return aggregate;
    }
}

/// <summary>Deterministic deltas for a parsed view: one argument per aggregate, amounts 1–999, card ids c0–c99.</summary>
internal static class Workload
{
    public static ViewDelta[] Deltas(ViewDefinition view, int count, int seed)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return Enumerable.Range(0, count).Select(i =>
        {
            var amount = JsonSerializer.SerializeToElement(random.Next(1, 1000));
            var card = JsonSerializer.SerializeToElement($"c{random.Next(100)}");
            var arguments = view.Aggregates
                .Select(a => a.Argument is null ? ValueKey.Null : ValueKey.From(a.Argument == "card_id" ? card : amount))
                .ToList();
            var time = start.AddMilliseconds(i);
            return new ViewDelta(1, time, new EventVersion(time.UtcTicks, "bench", i + 1), arguments);
        }).ToArray();
    }
}
