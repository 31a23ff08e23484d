// Versions per epoch, as entities, view keys and vector rows keep them: pending changes are invisible, an
// epoch turns the changes it covers into one version per key, a read takes each key's newest version at or
// before its epoch, versions below the horizon fold into one (older reads refused), and a restored store
// answers from the epoch its snapshot was committed at.
using ContextLake.Platform.Epochs;
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.State;

public sealed class VersionedStoreSpecs
{
    private sealed record Add(string Stream, long Offset, int Amount) : IStreamChange;

    private sealed record Total(int Value);

    private static VersionedStore<Total, Add> Store() => new(Sum, keepsCurrent: false);

    private static Total? Sum(string key, Total? total, ReadOnlySpan<Add> adds)
    {
        var sum = total?.Value ?? 0;
        foreach (var add in adds) sum += add.Amount;
        return new Total(sum);
    }

    private static Epoch E(long n, params (string Stream, long Offset)[] vector) =>
        new(n, vector.ToDictionary(v => v.Stream, v => v.Offset), DateTimeOffset.UnixEpoch.AddSeconds(n));

    private static int? Read(VersionedStore<Total, Add> store, string key, long n) =>
        store.TryRead(key, n, out var v) switch
        {
            ReadOutcome.Found => v!.Value,
            ReadOutcome.Absent => null,
            _ => throw new InvalidOperationException($"epoch {n} is too old"),
        };

    [Fact]
    public void pending_changes_are_invisible_until_an_epoch_covers_them()
    {
        var store = Store();
        store.Add("k", new Add("s", 1, 5));
        store.Add("k", new Add("s", 2, 7));
        Assert.Null(Read(store, "k", 0));

        store.Commit([E(1, ("s", 1))], horizonN: 0);
        Assert.Equal(5, Read(store, "k", 1));
        Assert.Equal(1, store.PendingKeys);

        store.Commit([E(2, ("s", 2))], horizonN: 0);
        Assert.Equal(12, Read(store, "k", 2));
        Assert.Equal(5, Read(store, "k", 1));
        Assert.Null(Read(store, "k", 0));
        Assert.Equal(0, store.PendingKeys);
    }

    [Fact]
    public void changes_of_one_stream_arriving_out_of_offset_order_are_committed_by_the_epoch_that_covers_each()
    {
        // A view partition hears a stream from several entity partitions: offsets interleave.
        var store = Store();
        store.Add("x", new Add("s", 9, 1));
        store.Add("y", new Add("s", 3, 10));
        store.Add("x", new Add("s", 5, 100));
        store.Add("z", new Add("t", 1, 1000));
        store.Add("y", new Add("s", 12, 10_000));

        store.Commit([E(1, ("s", 4))], horizonN: 0);
        Assert.Equal([null, 10, null], new[] { Read(store, "x", 1), Read(store, "y", 1), Read(store, "z", 1) });
        store.Commit([E(2, ("s", 9)), E(3, ("s", 9), ("t", 1))], horizonN: 0);
        Assert.Equal([101, 10, null], new[] { Read(store, "x", 2), Read(store, "y", 2), Read(store, "z", 2) });
        Assert.Equal(1000, Read(store, "z", 3));
        Assert.Equal(1, store.PendingKeys);
        store.Commit([E(4, ("s", 12), ("t", 1))], horizonN: 0);
        Assert.Equal(10_010, Read(store, "y", 4));
        Assert.Equal(0, store.PendingKeys);
    }

    [Fact]
    public void a_removed_key_written_again_commits_only_its_new_changes()
    {
        var store = Store();
        store.Add("k", new Add("s", 1, 5));
        store.RemoveWhere(k => k == "k");
        Assert.Equal(0, store.PendingKeys);
        store.Add("k", new Add("s", 2, 7));
        store.Commit([E(1, ("s", 2))], horizonN: 0);
        Assert.Equal(7, Read(store, "k", 1));
        Assert.Equal(0, store.PendingKeys);
    }

    [Fact]
    public void several_epochs_committed_at_once_give_each_its_own_version()
    {
        var store = Store();
        store.Add("k", new Add("a", 1, 1));
        store.Add("k", new Add("b", 1, 10));
        store.Add("k", new Add("a", 2, 100));
        store.Commit([E(3, ("a", 1)), E(4, ("a", 1), ("b", 1)), E(5, ("a", 2), ("b", 1))], horizonN: 0);
        Assert.Equal(1, Read(store, "k", 3));
        Assert.Equal(11, Read(store, "k", 4));
        Assert.Equal(111, Read(store, "k", 5));
        Assert.Equal(111, Read(store, "k", 50));
    }

    [Fact]
    public void a_key_never_written_reads_absent_and_creates_nothing()
    {
        var store = Store();
        for (var i = 0; i < 1000; i++) Assert.Null(Read(store, $"absent-{i}", 7));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void versions_below_the_horizon_fold_into_the_newest_of_them_and_older_reads_are_refused()
    {
        var store = Store();
        for (var n = 1; n <= 10; n++)
        {
            store.Add("k", new Add("s", n, 1));
            store.Commit([E(n, ("s", n))], horizonN: 0);
        }
        store.Compact(horizonN: 6);
        Assert.Equal(6, Read(store, "k", 6));
        Assert.Equal(8, Read(store, "k", 8));
        Assert.Equal(10, Read(store, "k", 10));
        Assert.Equal(ReadOutcome.TooOld, store.TryRead("k", 5, out _));
        Assert.Equal(6, store.ReadableFrom);
    }

    [Fact]
    public void a_store_that_keeps_current_values_publishes_them_as_they_are()
    {
        var store = new VersionedStore<Total, Add>(Sum, keepsCurrent: true);
        var current = new Total(42);
        store.Put("k", current, new Add("s", 1, 42));
        Assert.Same(current, store.Current("k"));
        store.Commit([E(1, ("s", 1))], horizonN: 0);
        Assert.True(store.TryRead("k", 1, out var read) == ReadOutcome.Found);
        Assert.Same(current, read);
    }

    [Fact]
    public void committing_the_last_epoch_again_makes_changes_that_arrived_covered_readable_at_it()
    {
        var store = Store();
        store.Add("k", new Add("s", 1, 1));
        var epoch = E(1, ("s", 5));
        store.Commit([epoch], horizonN: 0);
        // A backfill's change, of an event committed long ago, arrives after the epoch was committed here.
        store.Add("k", new Add("s", 3, 2));
        store.Commit([epoch], horizonN: 0);
        Assert.Equal(3, Read(store, "k", 1));
    }

    [Fact]
    public void a_restored_store_answers_from_its_snapshots_epoch_with_its_pending_changes_committed_later()
    {
        var store = Store();
        store.Add("k", new Add("s", 1, 5));
        store.Commit([E(4, ("s", 1))], horizonN: 0);
        store.Add("k", new Add("s", 2, 7));
        var captured = store.Capture();

        var restored = Store();
        restored.Restore(captured, store.CommittedThrough);
        Assert.Equal(5, Read(restored, "k", 4));
        Assert.Equal(ReadOutcome.TooOld, restored.TryRead("k", 3, out _));
        restored.Commit([E(5, ("s", 2))], horizonN: 0);
        Assert.Equal(12, Read(restored, "k", 5));
        Assert.Equal(5, Read(restored, "k", 4));
    }

    [Fact]
    public async Task reads_on_other_threads_see_whole_versions_while_the_owner_commits()
    {
        var store = Store();
        var stop = false;
        var reader = Task.Run(() =>
        {
            var last = 0;
            while (!Volatile.Read(ref stop))
            {
                var n = store.CommittedThrough;
                var outcome = store.TryRead("k", n, out var total);
                if (outcome == ReadOutcome.TooOld) continue;  // the owner folded past it meanwhile: refused, never wrong
                var v = total?.Value ?? 0;
                Assert.True(v == n, $"at epoch {n} the key read {v}");
                Assert.True(v >= last);
                last = v;
            }
        });
        for (var n = 1; n <= 20_000; n++)
        {
            store.Add("k", new Add("s", n, 1));
            store.Commit([E(n, ("s", n))], horizonN: Math.Max(0, n - 100));
            if (n % 1000 == 0) store.Compact(n - 100);
        }
        Volatile.Write(ref stop, true);
        await reader;
    }
}
