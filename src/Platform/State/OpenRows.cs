// The journal rows of a partition whose changes are not all committed yet, oldest first. A partition snapshots as
// of the row before the oldest of them: the snapshot holds committed values alone (no pending changes, no batches to
// send again, whose size under a backlog grows with the events in flight), and a restart replays the rows after it,
// which hold everything not yet committed. Where each chain stood before the first of those rows is kept with them:
// the snapshot's chain positions are those, so that the replayed rows move the chains on exactly as they did live.
using ContextLake.Platform.Epochs;

namespace ContextLake.Platform.State;

public sealed class OpenRows<TChain> where TChain : notnull
{
    /// <summary>One row: the chains it moved (from where) and, per stream, the highest offset of a change it left pending.</summary>
    public sealed class Row
    {
        internal Row(long seqNr) => SeqNr = seqNr;

        internal long SeqNr { get; }
        internal List<(TChain Chain, long From)> Chains { get; } = new(1);
        internal List<(string Stream, long Offset)> Pending { get; } = new(1);

        /// <summary>The row moved <paramref name="chain"/> on from <paramref name="from"/>.</summary>
        public void Moved(TChain chain, long from) => Chains.Add((chain, from));

        /// <summary>The row left a change of (<paramref name="stream"/>, <paramref name="offset"/>) pending.</summary>
        public void Left(string stream, long offset)
        {
            for (var i = 0; i < Pending.Count; i++)
            {
                if (!string.Equals(Pending[i].Stream, stream, StringComparison.Ordinal)) continue;
                if (offset > Pending[i].Offset) Pending[i] = (Pending[i].Stream, offset);
                return;
            }
            Pending.Add((stream, offset));
        }
    }

    private readonly Queue<Row> _rows = new();
    private Row? _building;

    /// <summary>Open rows held (rows after the first still open included).</summary>
    public int Count => _rows.Count;

    /// <summary>Starts recording journal row <paramref name="seqNr"/>; <see cref="End"/> files it.</summary>
    public Row Begin(long seqNr) => _building = new Row(seqNr);

    /// <summary>
    /// Files the row begun last: kept when it left changes pending, or when an earlier row is still open (its chains'
    /// positions are needed to replay from before that one).
    /// </summary>
    public void End()
    {
        if (_building is { } row && (row.Pending.Count > 0 || _rows.Count > 0)) _rows.Enqueue(row);
        _building = null;
    }

    /// <summary>Lets go of the oldest rows whose every pending change <paramref name="committed"/> covers.</summary>
    public void Commit(Epoch committed)
    {
        while (_rows.TryPeek(out var row) && row.Pending.TrueForAll(p => p.Offset <= committed[p.Stream])) _rows.Dequeue();
    }

    /// <summary>The newest row a snapshot can be taken as of: the one before the oldest open row, or <paramref name="last"/>.</summary>
    public long SnapshotRow(long last) => _rows.TryPeek(out var row) ? row.SeqNr - 1 : last;

    /// <summary>
    /// Where each chain stood as of <see cref="SnapshotRow"/>: <paramref name="current"/>, except chains the open rows moved,
    /// which stood where the first of them found them.
    /// </summary>
    public Dictionary<TChain, long> ChainsAtSnapshotRow(IReadOnlyDictionary<TChain, long> current)
    {
        var at = new Dictionary<TChain, long>(current.Count);
        foreach (var (chain, through) in current) at[chain] = through;
        var seen = new HashSet<TChain>();
        foreach (var row in _rows)
            foreach (var (chain, from) in row.Chains)
                if (seen.Add(chain))
                {
                    if (from > 0) at[chain] = from;
                    else at.Remove(chain);
                }
        return at;
    }

    public void Clear()
    {
        _rows.Clear();
        _building = null;
    }
}
