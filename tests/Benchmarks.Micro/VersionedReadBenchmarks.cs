// A decision read of one view key in the partitioned engine (VersionedStore.TryRead, then the aggregate's
// values): the key's newest version at or before the read's epoch. At the latest epoch that is the head of
// the key's version list whatever the write rate; an as-of read walks back one version per epoch in which
// the key changed since. Also the commit that turns an epoch's pending changes into versions.
using BenchmarkDotNet.Attributes;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.State;
using ContextLake.Views.Algebra;
using ContextLake.Views.Partitions;
using ContextLake.Views.Sql;

namespace ContextLake.Benchmarks.Micro;

[MemoryDiagnoser]
public class VersionedReadBenchmarks
{
    private const int Keys = 1000;
    private readonly DateTimeOffset _at = new(2026, 1, 2, 0, 0, 0, TimeSpan.Zero);
    private VersionedStore<GroupAggregate, KeyDelta> _store = null!;
    private ViewDelta[] _deltas = [];
    private long _offset;
    private long _epoch;

    /// <summary>Epochs in which every key changed (versions each key holds within the horizon).</summary>
    [Params(1, 10, 100)]
    public int Versions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var view = ViewSql.Parse("CREATE VIEW credits AS SELECT to_account, SUM(amount) AS total, COUNT(*) AS n FROM transfer GROUP BY to_account");
        _deltas = Workload.Deltas(view, Keys, seed: 2);
        _store = new VersionedStore<GroupAggregate, KeyDelta>((_, aggregate, changes) =>
        {
            var next = aggregate?.Clone() ?? new GroupAggregate(view);
            foreach (var change in changes)
                foreach (var d in change.Deltas) next.Apply(d);
            return next;
        }, keepsCurrent: false);
        for (var v = 0; v < Versions; v++) CommitOneEpoch();
    }

    /// <summary>One change to every key, then the epoch that covers them, then the fold of versions past the horizon.</summary>
    private void CommitOneEpoch()
    {
        for (var k = 0; k < Keys; k++)
            _store.Add($"k{k}", new KeyDelta("credits", 1, $"k{k}", "bench", ++_offset, [_deltas[k]]));
        _epoch++;
        _store.Commit([new Epoch(_epoch, new Dictionary<string, long> { ["bench"] = _offset }, _at)], horizonN: 0);
        // The horizon follows: each key keeps its last `Versions` versions, as a partition folds older ones.
        _store.Compact(_epoch - Versions);
    }

    [Benchmark(Description = "read one key at the latest epoch")]
    public GroupValues? ReadLatest() => Read(_epoch);

    [Benchmark(Description = "read one key at the oldest epoch held")]
    public GroupValues? ReadOldest() => Read(_epoch - Versions + 1);

    [Benchmark(Description = "commit an epoch, per changed key (1,000 keys)", OperationsPerInvoke = Keys)]
    public void CommitPerKey() => CommitOneEpoch();

    private GroupValues? Read(long n) =>
        _store.TryRead("k500", n, out var aggregate) == ReadOutcome.Found ? aggregate!.Read(_at, null) : null;
}
