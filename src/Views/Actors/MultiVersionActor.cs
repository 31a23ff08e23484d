// The multi-version (MVCC) state view keys and vector partitions share: a persisted base folded up to the
// epoch-history horizon (at vector BaseVector) plus the pending changes after it, each tagged (stream, offset).
// Changes are deduplicated per (stream, offset) exactly, so redelivery in any order changes nothing; each
// command's new changes are one journal row; a read at vector V sees the base plus the pending changes V commits.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Views.Catalog;

namespace ContextLake.Views.Actors;

/// <summary>What one event (Stream, Offset) did to a multi-version actor's state: the unit it deduplicates.</summary>
public interface IStreamChange
{
    string Stream { get; }
    long Offset { get; }
}

/// <summary>Journal row of a multi-version actor: the new (deduplicated) changes of one command.</summary>
public interface IChangeBatch<out TChange>
{
    IReadOnlyList<TChange> Batch { get; }
}

/// <summary>Snapshot of a multi-version actor: its base (in the actor's own shape), the base's vector and the pending changes.</summary>
public interface IMultiVersionSnapshot<out TChange>
{
    Dictionary<string, long> BaseVector { get; }
    IReadOnlyList<TChange> Pending { get; }
}

/// <summary>
/// A sharded persistent actor holding multi-version state. Pending changes are kept per part of the state
/// they touch (an entity's row in a vector partition; a view key is a single part), so a fold and a read
/// only visit the parts that have pending changes. Subclasses give the base's algebra, the journal row and
/// snapshot types (their wire formats are theirs) and the reads.
/// </summary>
public abstract class MultiVersionActor<TChange, TBatch, TSnapshot> : ReceivePersistentActor
    where TChange : IStreamChange
    where TBatch : IChangeBatch<TChange>
    where TSnapshot : IMultiVersionSnapshot<TChange>
{
    private readonly string _viewName;
    private readonly EpochClock _clock;
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private CatalogView? _view;
    private Dictionary<string, long> _baseVector = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TChange>> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<(string, long)> _pendingIds = new();
    private int _sinceSnapshot;

    protected MultiVersionActor(string persistenceId, string viewName, EpochClock clock, int snapshotEvery)
    {
        PersistenceId = persistenceId;
        _viewName = viewName;
        _clock = clock;
        _snapshotEvery = snapshotEvery;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not TSnapshot s) return;
            RestoreBase(s);
            _baseVector = new Dictionary<string, long>(s.BaseVector, StringComparer.Ordinal);
            foreach (var c in s.Pending) AddPending(c);
        });
        Recover<TBatch>(b =>
        {
            foreach (var c in b.Batch)
                if (!IsDuplicate(c)) AddPending(c);
            _sinceSnapshot++;
        });

        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old snapshots of {0} failed", PersistenceId));
    }

    public override string PersistenceId { get; }

    /// <summary>
    /// The view's definition from the local catalog, with the subclass's derived state made ready for it;
    /// null when the view (or what this actor needs of it) is gone, and then the actor ignores changes.
    /// </summary>
    protected abstract CatalogView? Resolve();

    /// <summary>The part of the state a change touches; pending changes are kept per part.</summary>
    protected abstract string PartOf(TChange change);

    /// <summary>The journal row of one command's new changes.</summary>
    protected abstract TBatch JournalRow(IReadOnlyList<TChange> fresh);

    /// <summary>A snapshot of the base with its vector and the pending changes.</summary>
    protected abstract TSnapshot Snapshot(Dictionary<string, long> baseVector, IReadOnlyList<TChange> pending);

    /// <summary>Takes the base out of a recovered snapshot (the vector and pending changes are taken here).</summary>
    protected abstract void RestoreBase(TSnapshot snapshot);

    /// <summary>Folds one part's changes the history horizon commits into the base, in arrival order.</summary>
    protected abstract void FoldIntoBase(string part, IReadOnlyList<TChange> covered);

    /// <summary>Called after a fold moved the base forward.</summary>
    protected virtual void Folded()
    {
    }

    protected bool HasPending => _pending.Count > 0;

    protected bool HasPendingIn(string part) => _pending.ContainsKey(part);

    protected IReadOnlyList<TChange> PendingIn(string part) => _pending.TryGetValue(part, out var changes) ? changes : [];

    protected IEnumerable<(string Part, IReadOnlyList<TChange> Changes)> PendingParts =>
        _pending.Select(kv => (kv.Key, (IReadOnlyList<TChange>)kv.Value));

    /// <summary>Whether a read at <paramref name="vector"/> sees <paramref name="change"/>.</summary>
    protected static bool Commits(IReadOnlyDictionary<string, long> vector, TChange change) =>
        vector.TryGetValue(change.Stream, out var o) && change.Offset <= o;

    /// <summary>
    /// Journals the changes of a batch not seen before as one row, then replies
    /// <see cref="ViewDeltasApplied"/>; every so many rows the state is snapshotted.
    /// </summary>
    protected void ApplyChanges(IReadOnlyList<TChange> batch)
    {
        if (Prepare() is null)
        {
            Sender.Tell(new ViewDeltasApplied(0, batch.Count));
            return;
        }
        var fresh = new List<TChange>(batch.Count);
        var seen = new HashSet<(string, long)>();
        foreach (var c in batch)
            if (!IsDuplicate(c) && seen.Add((c.Stream, c.Offset))) fresh.Add(c);
        var duplicates = batch.Count - fresh.Count;
        if (fresh.Count == 0)
        {
            Sender.Tell(new ViewDeltasApplied(0, duplicates));
            return;
        }

        var replyTo = Sender;
        Persist(JournalRow(fresh), b =>
        {
            foreach (var c in b.Batch) AddPending(c);
            replyTo.Tell(new ViewDeltasApplied(b.Batch.Count, duplicates));
            if (++_sinceSnapshot >= _snapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(Snapshot(new Dictionary<string, long>(_baseVector), _pending.Values.SelectMany(p => p).ToList()));
            }
        });
    }

    /// <summary>
    /// Readies a read at <paramref name="vector"/>: false (with the refusal sent) when the view is gone or
    /// the base has already folded past the vector.
    /// </summary>
    protected bool ReadableAt(IReadOnlyDictionary<string, long> vector)
    {
        if (Prepare() is null)
        {
            Sender.Tell(new ViewReadRefused($"view {_viewName} no longer exists"));
            return false;
        }
        if (!_baseVector.All(kv => vector.TryGetValue(kv.Key, out var o) && o >= kv.Value))
        {
            Sender.Tell(new ReadTooOld(0));
            return false;
        }
        return true;
    }

    private CatalogView? Prepare()
    {
        var view = Resolve();
        if (view is null) return null;
        _view = view;
        Fold();
        return view;
    }

    private bool IsDuplicate(TChange c) =>
        (_baseVector.TryGetValue(c.Stream, out var b) && c.Offset <= b) || _pendingIds.Contains((c.Stream, c.Offset));

    private void AddPending(TChange c)
    {
        var part = PartOf(c);
        if (!_pending.TryGetValue(part, out var list)) _pending[part] = list = new List<TChange>(1);
        list.Add(c);
        _pendingIds.Add((c.Stream, c.Offset));
    }

    /// <summary>
    /// Folds the changes the history horizon commits into the base. Not while the view is backfilling:
    /// the backfill still delivers old changes, which a moved base would wrongly take for duplicates.
    /// </summary>
    private void Fold()
    {
        var horizon = _clock.Horizon;
        if (_pending.Count == 0 || horizon.N == 0 || _view is not { Ready: true }) return;
        var folded = false;
        foreach (var part in _pending.Keys.ToList())
        {
            var changes = _pending[part];
            var covered = changes.Where(c => horizon.Covers(c.Stream, c.Offset)).ToList();
            if (covered.Count == 0) continue;
            folded = true;
            changes.RemoveAll(c => horizon.Covers(c.Stream, c.Offset));
            if (changes.Count == 0) _pending.Remove(part);
            foreach (var c in covered) _pendingIds.Remove((c.Stream, c.Offset));
            FoldIntoBase(part, covered);
        }
        if (!folded) return;
        foreach (var (stream, offset) in horizon.Vector)
            if (!_baseVector.TryGetValue(stream, out var b) || offset > b) _baseVector[stream] = offset;
        Folded();
    }
}
