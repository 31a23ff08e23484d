// A partition fed by entity partitions (view keys, vector rows): it takes chained batches of derived
// changes, one chain per (channel, source partition), each checked against how far that chain has come,
// so a redelivery is dropped exactly and a lost batch is noticed (the batch after it is refused until the
// chain is sent again in order). What it takes is journaled group-committed, one row for everything that
// arrived during the previous write; once the row is durable the changes become pending in the store and
// each batch's sender's tracker is told. Subclasses hold the store and answer the reads. A snapshot holds the
// committed values as of the row before the oldest one still open (OpenRows), with the chains' positions then and
// the committed vector: a restart replays the later rows and takes from them the changes the vector does not cover.
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Platform.State;

/// <summary>One batch as a downstream partition journals it: its chain, how far it goes, and its new changes.</summary>
public sealed record DownstreamRowPart<TChange>(string Channel, int Source, long Through, IReadOnlyList<TChange> Changes);

/// <summary>How far one chain has come, as a snapshot holds it.</summary>
public sealed record ChainMark(string Channel, int Source, long Through);

/// <summary>
/// What a downstream partition's snapshot holds besides its values: the chains' positions as of its row, and the committed
/// epoch's vector, whose changes its values already hold (null in snapshots that still held pending changes).
/// </summary>
public sealed record DownstreamSnapshotBase(IReadOnlyList<ChainMark> Chains, IReadOnlyDictionary<string, long>? Committed);

public abstract class DownstreamPartition<TChange> : PartitionActor
    where TChange : class, IDownstreamChange
{
    private sealed record Taken(IDownstreamBatch Batch, IReadOnlyList<TChange> Fresh, IActorRef? ReplyTo);

    private static readonly TimeSpan DeferredExpire = TimeSpan.FromMinutes(2);

    private readonly Dictionary<(string Channel, int Source), long> _accepted = new();
    private readonly Dictionary<(string Channel, int Source), long> _journaled = new();
    private readonly List<Taken> _buffer = new();
    private List<Taken> _writing = new();
    private readonly List<(IDownstreamBatch Batch, IActorRef? ReplyTo)> _waitingDuplicates = new();
    private readonly List<(IDownstreamBatch Batch, IActorRef? ReplyTo, DateTime Since)> _deferred = new();
    private readonly OpenRows<(string Channel, int Source)> _open = new();
    private readonly HashSet<(IActorRef? ReplyTo, (string Channel, int Source) Chain)> _confirms = new();

    /// <summary>The vector the restored snapshot's values hold: replayed changes it covers are already in them.</summary>
    private IReadOnlyDictionary<string, long>? _restoredVector;

    /// <summary>The vector of the newest epoch committed here.</summary>
    private IReadOnlyDictionary<string, long> _committedVector = new Dictionary<string, long>();

    protected DownstreamPartition(string region, string partitionId, EpochClock clock, StateOptions options, LocalPartitions? local = null,
        PartitionRole role = PartitionRole.Owner)
        : base(region, partitionId, clock, options, local, role)
    {
    }

    /// <summary>Registers the subclass's journal row type (the batches taken during one write, in its own wire format).</summary>
    protected void RowType<TRow>() where TRow : class => Row<TRow>(row => ApplyRow(PartsOf(row), null), row => PartsOf(row).Sum(p => p.Changes.Count));

    /// <summary>The journal row holding <paramref name="parts"/>.</summary>
    protected abstract object NewRow(IReadOnlyList<DownstreamRowPart<TChange>> parts);

    protected abstract IReadOnlyList<DownstreamRowPart<TChange>> PartsOf(object row);

    /// <summary>The batch's changes, typed.</summary>
    protected abstract IReadOnlyList<TChange> ChangesOf(IDownstreamBatch batch);

    /// <summary>
    /// Whether this node knows enough to take the batch (the views it names are in the local catalog); when not, the
    /// batch waits and is offered again with <see cref="OfferDeferred"/>.
    /// </summary>
    protected virtual bool CanTake(IReadOnlyList<TChange> changes) => true;

    /// <summary>Adds a journaled change to the store as pending (the same call in recovery and live).</summary>
    protected abstract void Apply(TChange change);

    /// <summary>Takes a batch (the subclass's command handler for its batch type calls this).</summary>
    protected void Take(IDownstreamBatch batch)
    {
        var replyTo = batch.ReplyTo ?? Sender;
        var chain = (batch.Channel, batch.Source);
        var have = _accepted.GetValueOrDefault(chain);
        switch (Chains.Judge(batch, have, Clock.Latest[batch.Channel]))
        {
            case ChainVerdict.Duplicate:
                if (batch.Through <= _journaled.GetValueOrDefault(chain)) Confirm(batch, replyTo);
                else _waitingDuplicates.Add((batch, replyTo));
                return;
            case ChainVerdict.Gap:
                Log.Debug("{0}: batch of {1} from partition {2} after {3} refused: the chain is here only up to {4}",
                    PersistenceId, batch.Channel, batch.Source, batch.Prev, have);
                return;
        }
        var changes = ChangesOf(batch);
        if (!CanTake(changes))
        {
            _deferred.Add((batch, replyTo, DateTime.UtcNow));
            return;
        }
        // On a stream's chain the positions are event offsets: drop any change the chain has already taken.
        var fresh = IsStream(batch.Channel) && batch.Prev < have ? changes.Where(c => c.Offset > have).ToList() : changes;
        _accepted[chain] = batch.Through;
        _buffer.Add(new Taken(batch, fresh, replyTo));
        WorkArrived();
    }

    /// <summary>Offers the batches that waited for the catalog again (call when the catalog changed).</summary>
    protected void OfferDeferred()
    {
        if (_deferred.Count == 0) return;
        var waiting = _deferred.ToList();
        _deferred.Clear();
        foreach (var (batch, replyTo, since) in waiting)
        {
            if (DateTime.UtcNow - since > DeferredExpire) continue;
            if (CanTake(ChangesOf(batch))) Self.Tell(batch.WithReplyTo(replyTo), replyTo ?? ActorRefs.NoSender);
            else _deferred.Add((batch, replyTo, since));
        }
    }

    private static bool IsStream(string channel) => !channel.StartsWith("backfill:", StringComparison.Ordinal);

    protected override (object Row, int Changes)? TakeRow()
    {
        if (_buffer.Count == 0) return null;
        _writing = new List<Taken>(_buffer);
        _buffer.Clear();
        return (NewRow(_writing.Select(t => new DownstreamRowPart<TChange>(t.Batch.Channel, t.Batch.Source, t.Batch.Through, t.Fresh)).ToList()), _writing.Sum(t => t.Fresh.Count));
    }

    protected override void Journaled(object row)
    {
        var live = _writing;
        _writing = new List<Taken>();
        ApplyRow(PartsOf(row), live);
        AnswerJournaled(_waitingDuplicates, w => w.Batch.Through <= _journaled.GetValueOrDefault((w.Batch.Channel, w.Batch.Source)),
            w => Confirm(w.Batch, w.ReplyTo));
    }

    private void ApplyRow(IReadOnlyList<DownstreamRowPart<TChange>> parts, List<Taken>? live)
    {
        var backfill = false;
        var open = _open.Begin(RowNr);
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            backfill |= !IsStream(part.Channel);
            foreach (var change in part.Changes)
            {
                // Replaying after a snapshot: what its vector covers is already in its values.
                if (live is null && _restoredVector is { } covered && change.Offset <= covered.GetValueOrDefault(change.Stream)) continue;
                Apply(change);
                open.Left(change.Stream, change.Offset);
            }
            var chain = (part.Channel, part.Source);
            open.Moved(chain, _journaled.GetValueOrDefault(chain));
            if (part.Through > _journaled.GetValueOrDefault(chain)) _journaled[chain] = part.Through;
            if (live is null)
            {
                if (part.Through > _accepted.GetValueOrDefault(chain)) _accepted[chain] = part.Through;
                continue;
            }
            _confirms.Add((live[i].ReplyTo, chain));
        }
        _open.End();
        // One confirmation per tracker and chain for the whole row: it names how far the chain is journaled now.
        foreach (var (replyTo, (channel, source)) in _confirms)
            replyTo?.Tell(new DownstreamApplied(channel, source, RegionName, PartitionId, _journaled.GetValueOrDefault((channel, source))));
        _confirms.Clear();
        // A backfill's changes are of events committed long ago: readable at the epoch committed here now.
        if (backfill && live is not null) CommitCovered();
    }

    /// <summary>Rows whose changes the newest committed epoch covers are no longer open (call after each commit).</summary>
    protected void Committed(IReadOnlyList<Epoch> epochs)
    {
        if (epochs.Count == 0) return;
        _committedVector = epochs[^1].Vector;
        _open.Commit(epochs[^1]);
    }

    /// <summary>
    /// Only once this node can commit: before that a backfill's changes, covered by the committed vector, may still be
    /// pending, and a snapshot's replay would take them for committed.
    /// </summary>
    protected override long SnapshotRow => CanCommit ? _open.SnapshotRow(RowNr) : -1;

    private void Confirm(IDownstreamBatch batch, IActorRef? replyTo) =>
        replyTo?.Tell(new DownstreamApplied(batch.Channel, batch.Source, RegionName, PartitionId, _journaled.GetValueOrDefault((batch.Channel, batch.Source))));

    /// <summary>The chains' positions as of the snapshot row, and the committed vector, for the subclass's snapshot.</summary>
    protected DownstreamSnapshotBase SnapshotBase() => new(
        _open.ChainsAtSnapshotRow(_journaled).Select(m => new ChainMark(m.Key.Channel, m.Key.Source, m.Value)).ToList(),
        new Dictionary<string, long>(_committedVector));

    protected void RestoreBase(IReadOnlyList<ChainMark> chains, IReadOnlyDictionary<string, long>? committed)
    {
        _journaled.Clear();
        _accepted.Clear();
        _open.Clear();
        foreach (var m in chains) _journaled[(m.Channel, m.Source)] = _accepted[(m.Channel, m.Source)] = m.Through;
        _restoredVector = committed;
        if (committed is not null) _committedVector = committed;
    }
}
