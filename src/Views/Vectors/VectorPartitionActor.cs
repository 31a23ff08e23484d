// One partition of a vector view under cluster sharding, with the MVCC state view keys have (see
// MultiVersionActor): per entity a base multiset of rows folded up to the history horizon, plus the
// pending changes after it, kept per entity. The index holds each entity's base row;
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

public sealed class VectorPartitionActor : MultiVersionActor<VectorChange, VectorChangeBatch, VectorPartitionSnapshot>
{
    private readonly VectorPartitionAddress _address;
    private readonly ViewCatalog _catalog;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private VectorIndex? _index;
    private readonly Dictionary<string, VectorRows> _base = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Expr> _conditions = new(StringComparer.Ordinal);

    public VectorPartitionActor(string entityId, ViewCatalog catalog, EpochClock clock, int snapshotEvery)
        : base("vector-" + VectorPartitionAddress.Parse(entityId), VectorPartitionAddress.Parse(entityId).View, clock, snapshotEvery)
    {
        _address = VectorPartitionAddress.Parse(entityId);
        _catalog = catalog;

        Command<ApplyVectorChanges>(cmd => ApplyChanges(cmd.Batch));
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
    }

    /// <summary>The view's definition comes from the local catalog; a dropped view's partition ignores changes.</summary>
    protected override CatalogView? Resolve()
    {
        var view = _catalog.Find(_address.View, _address.Incarnation);
        if (view?.Definition.Vector is not { } spec) return null;
        if (_index is null)
        {
            _index = new VectorIndex(spec.Dimensions, new IvfOptions(Probes: spec.Probes));
            foreach (var (id, rows) in _base)
                if (rows.Visible() is { } row) _index.Upsert(id, row.Vector);
            TrainIfDue();
        }
        return view;
    }

    /// <summary>Pending changes are kept per entity: a search checks exactly the entities with pending changes.</summary>
    protected override string PartOf(VectorChange change) => change.EntityId;

    protected override VectorChangeBatch JournalRow(IReadOnlyList<VectorChange> fresh) => new(fresh);

    protected override VectorPartitionSnapshot Snapshot(Dictionary<string, long> baseVector, IReadOnlyList<VectorChange> pending) =>
        new(_base.Select(kv => new VectorEntitySnapshot(kv.Key, kv.Value.Rows.ToList())).ToList(), baseVector, pending);

    protected override void RestoreBase(VectorPartitionSnapshot snapshot)
    {
        foreach (var e in snapshot.Entities) _base[e.Id] = new VectorRows(e.Rows);
    }

    /// <summary>Folds an entity's committed changes into its base rows and puts its visible row in the index.</summary>
    protected override void FoldIntoBase(string id, IReadOnlyList<VectorChange> covered)
    {
        if (!_base.TryGetValue(id, out var rows)) _base[id] = rows = new VectorRows();
        foreach (var c in covered) rows.Apply(c);
        if (rows.Visible() is { } row) _index!.Upsert(id, row.Vector);
        else
        {
            _index!.Remove(id);
            if (rows.IsEmpty) _base.Remove(id);
        }
    }

    protected override void Folded() => TrainIfDue();

    private void HandleSearch(SearchVectors read)
    {
        if (!ReadableAt(read.Vector)) return;
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
        bool Clean(string id) => !HasPendingIn(id) && Keeps(id, _base[id].Visible()!);
        var top = new TopK(read.K);
        foreach (var hit in read.Exact ? _index!.SearchExact(read.Query, read.K, Clean) : _index!.Search(read.Query, read.K, Clean))
            top.Offer(hit);
        foreach (var (id, changes) in PendingParts)
        {
            var rows = _base.TryGetValue(id, out var b) ? b.Clone() : new VectorRows();
            foreach (var c in changes)
                if (Commits(read.Vector, c)) rows.Apply(c);
            if (rows.Visible() is { } row && Keeps(id, row))
                top.Offer(new Neighbor(id, VectorMath.Score(read.Query, row.Vector)));
        }
        Sender.Tell(new VectorNeighbors(top.ToList().Select(n => new VectorHit(n.Id, n.Score, RowAt(n.Id, read.Vector).Fields)).ToList()));
    }

    private VectorRow RowAt(string id, IReadOnlyDictionary<string, long> vector)
    {
        var rows = _base.TryGetValue(id, out var b) ? b.Clone() : new VectorRows();
        foreach (var c in PendingIn(id))
            if (Commits(vector, c)) rows.Apply(c);
        return rows.Visible()!;
    }

    private Expr Condition(string text)
    {
        if (_conditions.TryGetValue(text, out var parsed)) return parsed;
        if (_conditions.Count > 100) _conditions.Clear();
        return _conditions[text] = ViewSql.ParseCondition(text);
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
