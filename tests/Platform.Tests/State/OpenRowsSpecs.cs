// A partition snapshots as of the row before the oldest one still open: rows whose changes are all committed close
// in order, a row after an open one is kept for its chain positions, and the chains stand where the first open row
// found them.
using ContextLake.Platform.Epochs;
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.State;

public sealed class OpenRowsSpecs
{
    private static Epoch E(long n, params (string Stream, long Offset)[] vector) =>
        new(n, vector.ToDictionary(v => v.Stream, v => v.Offset), DateTimeOffset.UnixEpoch);

    private static void Row(OpenRows<string> open, long seqNr, params (string Stream, long From, long Through)[] parts)
    {
        var row = open.Begin(seqNr);
        foreach (var (stream, from, through) in parts)
        {
            row.Moved(stream, from);
            for (var o = from + 1; o <= through; o++) row.Left(stream, o);
        }
        open.End();
    }

    [Fact]
    public void a_snapshot_is_as_of_the_row_before_the_oldest_open_one_and_moves_on_as_epochs_commit()
    {
        var open = new OpenRows<string>();
        Row(open, 1, ("a", 0, 10));
        Row(open, 2, ("b", 0, 5));
        Row(open, 3, ("a", 10, 20));
        Assert.Equal(0, open.SnapshotRow(last: 3));

        // b commits first: row 2 stays behind the still open row 1.
        open.Commit(E(1, ("b", 5)));
        Assert.Equal(0, open.SnapshotRow(last: 3));
        open.Commit(E(2, ("a", 12), ("b", 5)));
        Assert.Equal(2, open.SnapshotRow(last: 3));
        open.Commit(E(3, ("a", 20), ("b", 5)));
        Assert.Equal(3, open.SnapshotRow(last: 3));
        Assert.Equal(0, open.Count);
    }

    [Fact]
    public void the_chains_stand_where_the_first_open_row_found_them()
    {
        var open = new OpenRows<string>();
        Row(open, 1, ("a", 0, 10));
        open.Commit(E(1, ("a", 10)));
        Row(open, 2, ("a", 10, 20), ("b", 0, 3));
        Row(open, 3, ("a", 20, 30), ("c", 7, 9));
        var now = new Dictionary<string, long> { ["a"] = 30, ["b"] = 3, ["c"] = 9, ["d"] = 4 };

        var at = open.ChainsAtSnapshotRow(now);
        // As of row 1: a at 10, b not begun, c at 7 (row 3 found it there), d untouched by open rows.
        Assert.Equal(new Dictionary<string, long> { ["a"] = 10, ["c"] = 7, ["d"] = 4 }, at);
    }

    [Fact]
    public void a_row_that_left_nothing_pending_is_kept_only_behind_an_open_one()
    {
        var open = new OpenRows<string>();
        Row(open, 1, ("a", 5, 5));
        Assert.Equal(0, open.Count);
        Assert.Equal(1, open.SnapshotRow(last: 1));
        Row(open, 2, ("a", 5, 6));
        Row(open, 3, ("b", 0, 0));
        Assert.Equal(2, open.Count);
        Assert.Equal(1, open.SnapshotRow(last: 3));
    }
}
