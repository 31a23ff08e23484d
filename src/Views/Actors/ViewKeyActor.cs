// One group key of one view under cluster sharding, with MVCC state: a base aggregate folded up to the
// history horizon (at vector BaseVector) plus the pending per-event deltas after it. A read at V folds
// the base with the pending deltas V commits. Deltas are deduplicated per (stream, offset) exactly, so
// redelivery in any order changes nothing; each command's new deltas are one journal row.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Views.Algebra;
using ContextLake.Views.Catalog;
using ContextLake.Views.Projection;

namespace ContextLake.Views.Actors;

public sealed class ViewKeyActor : ReceivePersistentActor
{
    private readonly ViewKeyAddress _address;
    private readonly ViewCatalog _catalog;
    private readonly EpochClock _clock;
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private CatalogView? _view;
    private GroupAggregate? _base;
    private Dictionary<string, long> _baseVector = new(StringComparer.Ordinal);
    private readonly List<KeyDeltas> _pending = new();
    private readonly HashSet<(string, long)> _pendingIds = new();
    private int _sinceSnapshot;
    private GroupAggregateSnapshot? _restoredBase;

    public ViewKeyActor(string entityId, ViewCatalog catalog, EpochClock clock, int snapshotEvery)
    {
        _address = ViewKeyAddress.Parse(entityId);
        _catalog = catalog;
        _clock = clock;
        _snapshotEvery = snapshotEvery;
        PersistenceId = "view-" + _address;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not ViewKeySnapshot s) return;
            _restoredBase = s.Base;
            _baseVector = new Dictionary<string, long>(s.BaseVector, StringComparer.Ordinal);
            foreach (var d in s.Pending) AddPending(d);
        });
        Recover<ViewDeltaBatch>(b =>
        {
            foreach (var d in b.Batch)
                if (!IsDuplicate(d)) AddPending(d);
            _sinceSnapshot++;
        });

        Command<ApplyViewDeltas>(HandleApply);
        Command<ReadViewKey>(HandleRead);
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old snapshots of {0} failed", PersistenceId));
    }

    public override string PersistenceId { get; }

    /// <summary>The view's definition comes from the local catalog; a dropped view's actor ignores deltas.</summary>
    private bool Resolve()
    {
        var view = _catalog.Find(_address.View, _address.Incarnation);
        if (view is null) return false;
        _view = view;
        if (_base is null)
        {
            _base = _restoredBase is null ? new GroupAggregate(view.Definition) : GroupAggregate.FromSnapshot(view.Definition, _restoredBase);
            _restoredBase = null;
        }
        return true;
    }

    private void HandleApply(ApplyViewDeltas cmd)
    {
        if (!Resolve())
        {
            Sender.Tell(new ViewDeltasApplied(0, cmd.Batch.Count));
            return;
        }
        Fold();
        var fresh = new List<KeyDeltas>(cmd.Batch.Count);
        var seen = new HashSet<(string, long)>();
        foreach (var d in cmd.Batch)
            if (!IsDuplicate(d) && seen.Add((d.Stream, d.Offset))) fresh.Add(d);

        var duplicates = cmd.Batch.Count - fresh.Count;
        if (fresh.Count == 0)
        {
            Sender.Tell(new ViewDeltasApplied(0, duplicates));
            return;
        }

        var replyTo = Sender;
        Persist(new ViewDeltaBatch(fresh), b =>
        {
            foreach (var d in b.Batch) AddPending(d);
            replyTo.Tell(new ViewDeltasApplied(b.Batch.Count, duplicates));
            if (++_sinceSnapshot >= _snapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(new ViewKeySnapshot(_base!.ToSnapshot(), new Dictionary<string, long>(_baseVector), _pending.ToList()));
            }
        });
    }

    private void HandleRead(ReadViewKey read)
    {
        if (!Resolve())
        {
            Sender.Tell(new ViewReadRefused($"view {_address.View} no longer exists"));
            return;
        }
        Fold();
        if (!_baseVector.All(kv => read.Vector.TryGetValue(kv.Key, out var o) && o >= kv.Value))
        {
            Sender.Tell(new ReadTooOld(0));
            return;
        }

        var state = _base!;
        if (_pending.Count > 0)
        {
            state = _base!.Clone();
            foreach (var d in _pending)
                if (read.Vector.TryGetValue(d.Stream, out var o) && d.Offset <= o)
                    foreach (var delta in d.Deltas) state.Apply(delta);
        }

        try
        {
            var values = state.Read(read.At, read.Span);
            Sender.Tell(new ViewKeyValues(values.Values, values.Window?.Start, values.Window?.End, values.Late));
        }
        catch (InvalidWindowReadException ex)
        {
            Sender.Tell(new ViewReadRefused(ex.Message));
        }
    }

    private bool IsDuplicate(KeyDeltas d) =>
        (_baseVector.TryGetValue(d.Stream, out var b) && d.Offset <= b) || _pendingIds.Contains((d.Stream, d.Offset));

    private void AddPending(KeyDeltas d)
    {
        _pending.Add(d);
        _pendingIds.Add((d.Stream, d.Offset));
    }

    /// <summary>
    /// Folds the deltas the history horizon commits into the base. Not while the view is backfilling:
    /// the backfill still delivers old deltas, which a moved base would wrongly take for duplicates.
    /// </summary>
    private void Fold()
    {
        var horizon = _clock.Horizon;
        if (_pending.Count == 0 || horizon.N == 0 || _view is not { Ready: true }) return;
        var kept = 0;
        var folded = false;
        for (var i = 0; i < _pending.Count; i++)
        {
            var d = _pending[i];
            if (horizon.Covers(d.Stream, d.Offset))
            {
                foreach (var delta in d.Deltas) _base!.Apply(delta);
                _pendingIds.Remove((d.Stream, d.Offset));
                folded = true;
            }
            else
            {
                _pending[kept++] = d;
            }
        }
        _pending.RemoveRange(kept, _pending.Count - kept);
        if (!folded) return;
        foreach (var (stream, offset) in horizon.Vector)
            if (!_baseVector.TryGetValue(stream, out var b) || offset > b) _baseVector[stream] = offset;
    }
}
