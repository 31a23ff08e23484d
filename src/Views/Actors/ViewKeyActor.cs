// One group key of one view under cluster sharding, with MVCC state (see MultiVersionActor): a base
// aggregate folded up to the history horizon plus the pending per-event deltas after it. A read at V folds
// the base with the pending deltas V commits.
using Akka.Actor;
using ContextLake.Platform.Epochs;
using ContextLake.Views.Algebra;
using ContextLake.Views.Catalog;
using ContextLake.Views.Projection;

namespace ContextLake.Views.Actors;

public sealed class ViewKeyActor : MultiVersionActor<KeyDeltas, ViewDeltaBatch, ViewKeySnapshot>
{
    private readonly ViewKeyAddress _address;
    private readonly ViewCatalog _catalog;

    private GroupAggregate? _base;
    private GroupAggregateSnapshot? _restoredBase;

    public ViewKeyActor(string entityId, ViewCatalog catalog, EpochClock clock, int snapshotEvery)
        : base("view-" + ViewKeyAddress.Parse(entityId), ViewKeyAddress.Parse(entityId).View, clock, snapshotEvery)
    {
        _address = ViewKeyAddress.Parse(entityId);
        _catalog = catalog;

        Command<ApplyViewDeltas>(cmd => ApplyChanges(cmd.Batch));
        Command<ReadViewKey>(HandleRead);
    }

    /// <summary>The view's definition comes from the local catalog; a dropped view's actor ignores deltas.</summary>
    protected override CatalogView? Resolve()
    {
        var view = _catalog.Find(_address.View, _address.Incarnation);
        if (view is not null && _base is null)
        {
            _base = _restoredBase is null ? new GroupAggregate(view.Definition) : GroupAggregate.FromSnapshot(view.Definition, _restoredBase);
            _restoredBase = null;
        }
        return view;
    }

    /// <summary>A view key's state is one aggregate, so all its pending deltas are one part.</summary>
    private const string OnePart = "";

    protected override string PartOf(KeyDeltas change) => OnePart;

    protected override ViewDeltaBatch JournalRow(IReadOnlyList<KeyDeltas> fresh) => new(fresh);

    protected override ViewKeySnapshot Snapshot(Dictionary<string, long> baseVector, IReadOnlyList<KeyDeltas> pending) =>
        new(_base!.ToSnapshot(), baseVector, pending);

    protected override void RestoreBase(ViewKeySnapshot snapshot) => _restoredBase = snapshot.Base;

    protected override void FoldIntoBase(string part, IReadOnlyList<KeyDeltas> covered)
    {
        foreach (var d in covered)
            foreach (var delta in d.Deltas) _base!.Apply(delta);
    }

    private void HandleRead(ReadViewKey read)
    {
        if (!ReadableAt(read.Vector)) return;

        var state = _base!;
        if (HasPending)
        {
            state = _base!.Clone();
            foreach (var d in PendingIn(OnePart))
                if (Commits(read.Vector, d))
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
}
