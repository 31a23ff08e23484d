// One partition of a vector view under cluster sharding, with the MVCC state view keys have: per entity
// a base multiset of rows folded up to the history horizon (at vector BaseVector), plus the pending
// changes after it, deduplicated per (stream, offset) exactly. The index holds each entity's base row;
// a read at V searches it for entities without pending changes and checks the few with pending changes
// exactly, at the row V commits for them. The index is derived state: rebuilt from the rows on recovery.
// Its inverted lists are trained in a task, off the actor's thread (seconds at 100,000 vectors); the actor
// keeps applying changes and serving searches (exact until the first lists arrive) meanwhile.
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Views.Actors;
using ContextLake.Views.Catalog;
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Vectors;

public sealed class VectorPartitionActor : ReceivePersistentActor
{
    private readonly VectorPartitionAddress _address;
    private readonly ViewCatalog _catalog;
    private readonly EpochClock _clock;
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private CatalogView? _view;
    private VectorIndex? _index;
    private readonly Dictionary<string, VectorRows> _base = new(StringComparer.Ordinal);
    private Dictionary<string, long> _baseVector = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<VectorChange>> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<(string, long)> _pendingIds = new();
    private readonly Dictionary<string, Expr> _conditions = new(StringComparer.Ordinal);
    private int _sinceSnapshot;

    public VectorPartitionActor(string entityId, ViewCatalog catalog, EpochClock clock, int snapshotEvery)
    {
        _address = VectorPartitionAddress.Parse(entityId);
        _catalog = catalog;
        _clock = clock;
        _snapshotEvery = snapshotEvery;
        PersistenceId = "vector-" + _address;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not VectorPartitionSnapshot s) return;
            foreach (var e in s.Entities) _base[e.Id] = new VectorRows(e.Rows);
            _baseVector = new Dictionary<string, long>(s.BaseVector, StringComparer.Ordinal);
            foreach (var c in s.Pending) AddPending(c);
        });
        Recover<VectorChangeBatch>(b =>
        {
            foreach (var c in b.Batch)
                if (!IsDuplicate(c)) AddPending(c);
            _sinceSnapshot++;
        });

        Command<ApplyVectorChanges>(HandleApply);
        Command<SearchVectors>(HandleSearch);
        Command<IvfTrained>(trained =>
        {
            if (_index?.Install(trained.Training) == true) _log.Debug("{0}: inverted lists installed", PersistenceId);
            TrainIfDue();
        });
        Command<IvfTrainingFailed>(failed =>
        {
            _log.Warning(failed.Cause, "{0}: training the inverted lists failed; searches keep the previous lists (or stay exact) and training is retried after the next change", PersistenceId);
            _index?.AbandonTraining(failed.Training);
        });
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old snapshots of {0} failed", PersistenceId));
    }

    public override string PersistenceId { get; }

    /// <summary>The view's definition comes from the local catalog; a dropped view's partition ignores changes.</summary>
    private bool Resolve()
    {
        var view = _catalog.Find(_address.View, _address.Incarnation);
        if (view?.Definition.Vector is not { } spec) return false;
        _view = view;
        if (_index is null)
        {
            _index = new VectorIndex(spec.Dimensions, new IvfOptions(Probes: spec.Probes));
            foreach (var (id, rows) in _base)
                if (rows.Visible() is { } row) _index.Upsert(id, row.Vector);
            TrainIfDue();
        }
        return true;
    }

    private void HandleApply(ApplyVectorChanges cmd)
    {
        if (!Resolve())
        {
            Sender.Tell(new ViewDeltasApplied(0, cmd.Batch.Count));
            return;
        }
        Fold();
        var fresh = new List<VectorChange>(cmd.Batch.Count);
        var seen = new HashSet<(string, long)>();
        foreach (var c in cmd.Batch)
            if (!IsDuplicate(c) && seen.Add((c.Stream, c.Offset))) fresh.Add(c);
        var duplicates = cmd.Batch.Count - fresh.Count;
        if (fresh.Count == 0)
        {
            Sender.Tell(new ViewDeltasApplied(0, duplicates));
            return;
        }

        var replyTo = Sender;
        Persist(new VectorChangeBatch(fresh), b =>
        {
            foreach (var c in b.Batch) AddPending(c);
            replyTo.Tell(new ViewDeltasApplied(b.Batch.Count, duplicates));
            if (++_sinceSnapshot >= _snapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(new VectorPartitionSnapshot(
                    _base.Select(kv => new VectorEntitySnapshot(kv.Key, kv.Value.Rows.ToList())).ToList(),
                    new Dictionary<string, long>(_baseVector),
                    _pending.Values.SelectMany(p => p).ToList()));
            }
        });
    }

    private void HandleSearch(SearchVectors read)
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
        Expr? where;
        try
        {
            where = read.Where is null ? null : Condition(read.Where);
        }
        catch (ViewDefinitionException ex)
        {
            Sender.Tell(new ViewReadRefused($"where: {ex.Message}"));
            return;
        }

        bool Keeps(string id, VectorRow row) =>
            where is null || RowPredicate.Matches(where, column => column == EventColumns.EntityId
                ? JsonSerializer.SerializeToElement(id)
                : column == EventColumns.EventTime
                    ? JsonSerializer.SerializeToElement(new DateTimeOffset(row.Version.TimeTicks, TimeSpan.Zero).UtcDateTime.ToString("O"))
                    : row.Fields.TryGetValue(column, out var v) ? v : null);

        // Entities with pending changes are answered below, at the row V commits for them; the index holds
        // their base row, which V may have replaced.
        bool Clean(string id) => !_pending.ContainsKey(id) && Keeps(id, _base[id].Visible()!);
        var top = new TopK(read.K);
        foreach (var hit in read.Exact ? _index!.SearchExact(read.Query, read.K, Clean) : _index!.Search(read.Query, read.K, Clean))
            top.Offer(hit);
        foreach (var (id, changes) in _pending)
        {
            var rows = _base.TryGetValue(id, out var b) ? b.Clone() : new VectorRows();
            foreach (var c in changes)
                if (read.Vector.TryGetValue(c.Stream, out var o) && c.Offset <= o) rows.Apply(c);
            if (rows.Visible() is { } row && Keeps(id, row))
                top.Offer(new Neighbor(id, VectorMath.Score(read.Query, row.Vector)));
        }
        Sender.Tell(new VectorNeighbors(top.ToList().Select(n => new VectorHit(n.Id, n.Score, RowAt(n.Id, read.Vector).Fields)).ToList()));
    }

    private VectorRow RowAt(string id, IReadOnlyDictionary<string, long> vector)
    {
        var rows = _base.TryGetValue(id, out var b) ? b.Clone() : new VectorRows();
        if (_pending.TryGetValue(id, out var changes))
            foreach (var c in changes)
                if (vector.TryGetValue(c.Stream, out var o) && c.Offset <= o) rows.Apply(c);
        return rows.Visible()!;
    }

    private Expr Condition(string text)
    {
        if (_conditions.TryGetValue(text, out var parsed)) return parsed;
        if (_conditions.Count > 100) _conditions.Clear();
        return _conditions[text] = ViewSql.ParseCondition(text);
    }

    private bool IsDuplicate(VectorChange c) =>
        (_baseVector.TryGetValue(c.Stream, out var b) && c.Offset <= b) || _pendingIds.Contains((c.Stream, c.Offset));

    private void AddPending(VectorChange c)
    {
        if (!_pending.TryGetValue(c.EntityId, out var list)) _pending[c.EntityId] = list = new List<VectorChange>(1);
        list.Add(c);
        _pendingIds.Add((c.Stream, c.Offset));
    }

    /// <summary>
    /// Folds the changes the history horizon commits into the base rows and the index. Not while the view
    /// is backfilling: the backfill still delivers old changes, which a moved base would take for duplicates.
    /// </summary>
    private void Fold()
    {
        var horizon = _clock.Horizon;
        if (_pending.Count == 0 || horizon.N == 0 || _view is not { Ready: true }) return;
        var folded = false;
        foreach (var id in _pending.Keys.ToList())
        {
            var changes = _pending[id];
            var covered = changes.Where(c => horizon.Covers(c.Stream, c.Offset)).ToList();
            if (covered.Count == 0) continue;
            folded = true;
            if (!_base.TryGetValue(id, out var rows)) _base[id] = rows = new VectorRows();
            foreach (var c in covered)
            {
                rows.Apply(c);
                _pendingIds.Remove((c.Stream, c.Offset));
            }
            changes.RemoveAll(c => horizon.Covers(c.Stream, c.Offset));
            if (changes.Count == 0) _pending.Remove(id);
            if (rows.Visible() is { } row) _index!.Upsert(id, row.Vector);
            else
            {
                _index!.Remove(id);
                if (rows.IsEmpty) _base.Remove(id);
            }
        }
        if (!folded) return;
        foreach (var (stream, offset) in horizon.Vector)
            if (!_baseVector.TryGetValue(stream, out var b) || offset > b) _baseVector[stream] = offset;
        TrainIfDue();
    }

    /// <summary>Starts training the index's inverted lists in a task when due; the result comes back as a message.</summary>
    private void TrainIfDue()
    {
        if (_index is not { TrainingDue: true }) return;
        var training = _index.StartTraining();
        Task.Run(training.Run).PipeTo(Self,
            success: t => new IvfTrained(t),
            failure: ex => new IvfTrainingFailed(training, ex));
    }

    private sealed record IvfTrained(IvfTraining Training);

    private sealed record IvfTrainingFailed(IvfTraining Training, Exception Cause);
}
