// The MVCC read fold of a view key (ViewKeyActor.HandleRead): clone the base aggregate (O(1), persistent
// structures), apply the pending deltas the read's epoch vector commits, and read the values.
using BenchmarkDotNet.Attributes;
using ContextLake.Views.Algebra;
using ContextLake.Views.Sql;

namespace ContextLake.Benchmarks.Micro;

[MemoryDiagnoser]
public class MvccReadFoldBenchmarks
{
    private GroupAggregate _base = null!;
    private (long Offset, ViewDelta Delta)[] _pending = [];
    private readonly DateTimeOffset _at = new(2026, 1, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Deltas newer than the history horizon, all committed by the read's vector.</summary>
    [Params(0, 10, 100)]
    public int Pending { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var view = ViewSql.Parse("CREATE VIEW credits AS SELECT to_account, SUM(amount) AS total, COUNT(*) AS n FROM transfer GROUP BY to_account");
        _base = new GroupAggregate(view);
        foreach (var d in Workload.Deltas(view, 1000, seed: 2)) _base.Apply(d);
        _pending = Workload.Deltas(view, Pending, seed: 3).Select((d, i) => ((long)i + 1, d)).ToArray();
    }

    [Benchmark(Description = "read one key at an epoch")]
    public GroupValues ReadAtEpoch()
    {
        var state = _base;
        if (_pending.Length > 0)
        {
            state = _base.Clone();
            const long committed = long.MaxValue;
            foreach (var (offset, delta) in _pending)
                if (offset <= committed) state.Apply(delta);
        }
        return state.Read(_at, null);
    }
}
