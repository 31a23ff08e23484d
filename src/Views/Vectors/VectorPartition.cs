// One partition of a vector view: the rows of the entities whose id hashes to it, in one sharded persistent
// actor. It takes chained batches of vector changes from the entity partitions (DownstreamPartition), keeps
// each entity's rows as versions per epoch (VersionedStore, like view keys and entities), and keeps a
// search index of every entity's row at the latest epoch it has committed. A read at an older epoch uses the
// index for the entities unchanged since and scores the few changed since exactly, at their version then.
// The index is derived state: rebuilt from the rows on recovery. Its inverted lists are trained in a task,
// off the actor's thread (seconds at 100,000 vectors); searches stay exact until the first lists arrive.
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Vectors;

public sealed class VectorPartition : DownstreamPartition<VectorChange>
{
    private readonly VectorPartitionAddress _address;
    private readonly ViewCatalog _catalog;
    private readonly VersionedStore<VectorRows, VectorChange> _store;
    private readonly Dictionary<string, Expr> _conditions = new(StringComparer.Ordinal);
    private readonly List<(long N, string Id)> _recent = new();
    private ViewDefinition? _definition;
    private VectorIndex? _index;

    public VectorPartition(string partitionId, ViewCatalog catalog, EpochClock clock, StateOptions options)
        : base(VectorRegion.TypeName, partitionId, clock, options)
    {
        _address = VectorPartitionAddress.Parse(partitionId);
        _catalog = catalog;
        _store = new VersionedStore<VectorRows, VectorChange>((_, rows, changes) =>
        {
            var next = rows?.Clone() ?? new VectorRows();
            foreach (var change in changes) next.Apply(change);
            return next.IsEmpty ? null : next;
        }, keepsCurrent: false);

        RowType<VectorPartitionRow>();
        Command<ApplyVectorChanges>(Take);
        Command<SearchVectors>(Search);
        Command<IvfTrained>(trained =>
        {
            if (_index?.Install(trained.Training) == true) Log.Debug("{0}: inverted lists installed", PersistenceId);
            TrainIfDue();
        });
        Command<IvfTrainingFailed>(failed =>
        {
            Log.Warning(failed.Cause, "{0}: training the inverted lists failed; searches keep the previous lists (or stay exact) and training is retried after the next change", PersistenceId);
            _index?.AbandonTraining(failed.Training);
        });
    }

    protected override long CommittedThrough => _store.CommittedThrough;

    protected override int KeyCount => _store.Count;

    /// <summary>The index needs the view's definition: nothing is committed before the catalog (or the snapshot) gives it.</summary>
    protected override bool CanCommit => Definition() is not null;

    private VectorSpec? Spec => Definition()?.Vector;

    private ViewDefinition? Definition()
    {
        if (_definition is null && _catalog.Find(_address.View, _address.Incarnation)?.Definition is { Vector: not null } d) _definition = d;
        if (_definition?.Vector is { } spec && _index is null)
        {
            _index = new VectorIndex(spec.Dimensions, new IvfOptions(Probes: spec.Probes));
            foreach (var id in _store.Keys)
                if (_store.TryRead(id, long.MaxValue, out var rows) == ReadOutcome.Found && rows!.Visible() is { } row) _index.Upsert(id, row.Vector);
        }
        return _definition;
    }

    protected override IReadOnlyList<VectorChange> ChangesOf(IDownstreamBatch batch) => ((ApplyVectorChanges)batch).Changes;

    protected override object NewRow(IReadOnlyList<DownstreamRowPart<VectorChange>> parts) => new VectorPartitionRow(parts);

    protected override IReadOnlyList<DownstreamRowPart<VectorChange>> PartsOf(object row) => ((VectorPartitionRow)row).Parts;

    protected override bool CanTake(IReadOnlyList<VectorChange> changes) =>
        Definition() is not null || _catalog.IsGone(_address.View, _address.Incarnation);

    protected override void Apply(VectorChange change)
    {
        if (_catalog.IsGone(_address.View, _address.Incarnation)) return;
        _store.Add(change.EntityId, change);
    }

    protected override void Commit(IReadOnlyList<Epoch> epochs, long horizonN)
    {
        _store.Commit(epochs, horizonN, (id, n, rows) =>
        {
            if (rows?.Visible() is { } row) _index!.Upsert(id, row.Vector);
            else _index!.Remove(id);
            _recent.Add((n, id));
        });
        Committed(epochs);
        TrainIfDue();
    }


    protected override void Compact(long horizonN)
    {
        _store.Compact(horizonN);
        _recent.RemoveAll(r => r.N < horizonN);
        OfferDeferred();
    }

    private void Search(SearchVectors read)
    {
        if (!ReadyFor(read.N, read)) return;
        if (Definition() is null)
        {
            Sender.Tell(new VectorNeighbors([], $"view {_address.View} no longer exists"));
            return;
        }
        if (read.N < _store.ReadableFrom)
        {
            Sender.Tell(new ReadTooOld(_store.ReadableFrom));
            return;
        }
        Expr? where;
        try
        {
            where = read.Where is null ? null : Condition(read.Where);
        }
        catch (ViewDefinitionException ex)
        {
            Sender.Tell(new VectorNeighbors([], $"where: {ex.Message}"));
            return;
        }

        bool Keeps(string id, VectorRow row) =>
            where is null || RowPredicate.Matches(where, column => column == EventColumns.EntityId
                ? JsonSerializer.SerializeToElement(id)
                : column == EventColumns.EventTime
                    ? JsonSerializer.SerializeToElement(new DateTimeOffset(row.Version.TimeTicks, TimeSpan.Zero).UtcDateTime.ToString("O"))
                    : row.Fields.TryGetValue(column, out var v) ? v : null);

        // The index holds every entity's row at the latest committed epoch; entities changed after the read's epoch
        // are answered below, at the row that epoch commits for them.
        var changedSince = read.N >= CommittedThrough ? [] : _recent.Where(r => r.N > read.N).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        bool Clean(string id) => !changedSince.Contains(id) && RowAt(id, long.MaxValue) is { } row && Keeps(id, row);
        var top = new TopK(read.K);
        foreach (var hit in read.Exact ? _index!.SearchExact(read.Query, read.K, Clean) : _index!.Search(read.Query, read.K, Clean))
            top.Offer(hit);
        foreach (var id in changedSince)
            if (RowAt(id, read.N) is { } row && Keeps(id, row))
                top.Offer(new Neighbor(id, VectorMath.Score(read.Query, row.Vector)));
        Sender.Tell(new VectorNeighbors(top.ToList().Select(n => new VectorHit(n.Id, n.Score, RowAt(n.Id, read.N)!.Fields)).ToList()));
    }

    private VectorRow? RowAt(string id, long n) =>
        _store.TryRead(id, n, out var rows) == ReadOutcome.Found ? rows!.Visible() : null;

    private Expr Condition(string text)
    {
        if (_conditions.TryGetValue(text, out var parsed)) return parsed;
        if (_conditions.Count > 100) _conditions.Clear();
        return _conditions[text] = ViewSql.ParseCondition(text);
    }

    /// <summary>Committed rows only, as of the snapshot row: the rows after it hold whatever is pending.</summary>
    protected override object CaptureSnapshot()
    {
        var entities = new List<VectorEntitySnapshot>(_store.Count);
        _store.CaptureEach(entities, static (entities, id, rows, _) =>
        {
            if (rows is not null) entities.Add(new VectorEntitySnapshot(id, rows.Rows, null));
        });
        var (chains, committed) = SnapshotBase();
        return new VectorPartitionSnapshot(_store.CommittedThrough, chains, Definition()?.Sql ?? "", entities, committed);
    }

    protected override void RestoreSnapshot(object snapshot)
    {
        if (snapshot is not VectorPartitionSnapshot s) return;
        RestoreBase(s.Chains, s.Committed);
        if (s.Sql.Length > 0) _definition = ViewSql.Parse(s.Sql);
        _store.Restore(s.Entities.Select(e => new StoredKey<VectorRows, VectorChange>(e.Id, e.Rows is null ? null : new VectorRows(e.Rows), e.Pending)), s.CommittedThrough);
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
