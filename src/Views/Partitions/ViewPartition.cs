// One view partition: the group keys of every view that hash to it, in one sharded persistent actor.
// It takes the chained key-delta batches entity partitions send (see DownstreamPartition), keeps each key's
// aggregate as versions per epoch (VersionedStore: a key's committed aggregate per epoch in which it
// changed, pending deltas invisible), and answers reads at an epoch. The views' definitions come from the
// catalog, and the definitions of the views it holds travel in its snapshot, so it recovers without one.
using Akka.Actor;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Views.Algebra;
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Partitions;

public sealed class ViewPartition : DownstreamPartition<KeyDelta>
{
    private readonly ViewCatalog _catalog;
    private readonly ViewDefinitions _definitions;
    private readonly VersionedStore<GroupAggregate, KeyDelta> _store;
    private long _catalogSeen = -1;
    private readonly List<ViewDelta> _rows = new();

    public ViewPartition(string partitionId, ViewCatalog catalog, EpochClock clock, StateOptions options, LocalPartitions local,
        PartitionRole role = PartitionRole.Owner)
        : base(ViewRegion.TypeName, partitionId, clock, options, local, role)
    {
        _catalog = catalog;
        _definitions = new ViewDefinitions(catalog);
        _store = new VersionedStore<GroupAggregate, KeyDelta>(Fold, keepsCurrent: false);
        _reads = new Reads(_store, _definitions);

        RowType<ViewPartitionRow>();
        Command<ApplyViewDeltas>(Take);
        Command<ReadViewKeys>(Read);
    }

    /// <summary>The store and definitions a gateway on this node reads directly.</summary>
    public sealed record Reads(VersionedStore<GroupAggregate, KeyDelta> Store, ViewDefinitions Definitions);

    private readonly Reads _reads;

    protected override long CommittedThrough => _store.CommittedThrough;

    protected override int KeyCount => _store.Count;

    /// <summary>Deltas are folded with their view's definition: not before this node knows the catalog.</summary>
    protected override bool CanCommit => _catalog.Version >= 0;

    protected override object Published => _reads;

    /// <summary>A key's deltas of one epoch, folded into one copy of its aggregate (they all name the key's view).</summary>
    private GroupAggregate? Fold(string address, GroupAggregate? aggregate, ReadOnlySpan<KeyDelta> deltas)
    {
        if (deltas.IsEmpty || _definitions.Find(deltas[0].View, deltas[0].Incarnation) is not { } definition) return aggregate;
        _rows.Clear();
        foreach (var delta in deltas)
            for (var i = 0; i < delta.Deltas.Count; i++) _rows.Add(delta.Deltas[i]);
        var next = aggregate?.Clone() ?? new GroupAggregate(definition);
        next.Apply(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows));
        _rows.Clear();
        return next;
    }

    protected override IReadOnlyList<KeyDelta> ChangesOf(IDownstreamBatch batch) => ((ApplyViewDeltas)batch).Changes;

    protected override object NewRow(IReadOnlyList<DownstreamRowPart<KeyDelta>> parts) => new ViewPartitionRow(parts);

    protected override IReadOnlyList<DownstreamRowPart<KeyDelta>> PartsOf(object row) => ((ViewPartitionRow)row).Parts;

    /// <summary>A delta for a view this node's catalog has not heard of yet waits; one for a dropped view is taken and ignored.</summary>
    protected override bool CanTake(IReadOnlyList<KeyDelta> changes)
    {
        foreach (var c in changes)
            if (_definitions.Find(c.View, c.Incarnation) is null && !_catalog.IsGone(c.View, c.Incarnation)) return false;
        return true;
    }

    protected override void Apply(KeyDelta change)
    {
        if (_catalog.IsGone(change.View, change.Incarnation)) return;
        _store.Add(change.AddressText, change);
    }

    protected override void Commit(IReadOnlyList<Epoch> epochs, long horizonN)
    {
        _store.Commit(epochs, horizonN);
        Committed(epochs);
    }


    protected override void Compact(long horizonN)
    {
        _store.Compact(horizonN);
        var version = _catalog.Version;
        if (version == _catalogSeen) return;
        _catalogSeen = version;
        // Keys of dropped views go; batches that waited for a view this node had not heard of are offered again.
        _store.RemoveWhere(address =>
        {
            var a = ViewKeyAddress.Parse(address);
            return _catalog.IsGone(a.View, a.Incarnation);
        });
        OfferDeferred();
    }

    private void Read(ReadViewKeys read)
    {
        if (!ReadyFor(read.N, read)) return;
        var results = new List<ViewKeyValues>(read.Reads.Count);
        foreach (var r in read.Reads)
        {
            if (ViewReads.Read(_store, _definitions, r, read.N) is not { } values)
            {
                Sender.Tell(new ReadTooOld(_store.ReadableFrom));
                return;
            }
            results.Add(values);
        }
        Sender.Tell(new ViewKeyReads(results));
    }

    /// <summary>Committed values only, as of the snapshot row: the rows after it hold whatever is pending.</summary>
    protected override object CaptureSnapshot()
    {
        var keys = new List<StoredAggregate>(_store.Count);
        _store.CaptureEach(keys, static (keys, address, value, _) =>
        {
            if (value is not null) keys.Add(new StoredAggregate(address, value.ToSnapshot(), null));
        });
        var held = keys.Select(k => ViewKeyAddress.Parse(k.Address).ViewId).Distinct()
            .Select(id => _definitions.FindById(id) is { } d ? new HeldView(id, d.Sql) : null).OfType<HeldView>().ToList();
        var (chains, committed) = SnapshotBase();
        return new ViewPartitionSnapshot(_store.CommittedThrough, chains, held, keys, committed);
    }

    protected override void RestoreSnapshot(object snapshot)
    {
        if (snapshot is not ViewPartitionSnapshot s) return;
        RestoreBase(s.Chains, s.Committed);
        foreach (var v in s.Views) _definitions.Hold(v.Id, ViewSql.Parse(v.Sql));
        _store.Restore(s.Keys.Select(k =>
        {
            var address = ViewKeyAddress.Parse(k.Address);
            var definition = _definitions.Find(address.View, address.Incarnation);
            var value = k.Value is { } snap && definition is not null ? GroupAggregate.FromSnapshot(definition, snap) : null;
            return new StoredKey<GroupAggregate, KeyDelta>(k.Address, value, k.Pending);
        }), s.CommittedThrough);
    }
}

/// <summary>
/// The definitions of the view incarnations a partition holds: the catalog's, and those restored from its snapshot
/// (a view the catalog dropped since is still folded until its keys are removed).
/// </summary>
public sealed class ViewDefinitions(ViewCatalog catalog)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ViewDefinition> _held = new(StringComparer.Ordinal);

    public ViewDefinition? Find(string view, long incarnation) =>
        catalog.Find(view, incarnation)?.Definition ?? _held.GetValueOrDefault(ViewIds.Of(view, incarnation));

    public ViewDefinition? FindById(string id)
    {
        var (name, incarnation) = ViewIds.Parse(id);
        return Find(name, incarnation);
    }

    public void Hold(string id, ViewDefinition definition) => _held[id] = definition;
}

/// <summary>Reads one view key from a partition's store at an epoch: the actor's reads and a gateway's direct reads alike.</summary>
public static class ViewReads
{
    /// <summary>The key's values at epoch <paramref name="n"/>; null when the store no longer holds that epoch.</summary>
    public static ViewKeyValues? Read(VersionedStore<GroupAggregate, KeyDelta> store, ViewDefinitions definitions, ViewKeyRead read, long n)
    {
        if (definitions.Find(read.View, read.Incarnation) is not { } definition)
            return new ViewKeyValues(new Dictionary<string, System.Text.Json.JsonElement>(), null, null, 0, $"view {read.View} no longer exists");
        var address = new ViewKeyAddress(read.View, read.Incarnation, read.Key).ToString();
        var outcome = store.TryRead(address, n, out var aggregate);
        return outcome == ReadOutcome.TooOld ? null : Render(definition, aggregate, read);
    }

    /// <summary>A key's values from its aggregate (null: no row reached the key), wherever the aggregate came from.</summary>
    public static ViewKeyValues Render(ViewDefinition definition, GroupAggregate? aggregate, ViewKeyRead read)
    {
        try
        {
            var values = (aggregate ?? new GroupAggregate(definition)).Read(read.At, read.Span);
            return new ViewKeyValues(values.Values, values.Window?.Start, values.Window?.End, values.Late, Exists: aggregate is not null, Group: values);
        }
        catch (InvalidWindowReadException ex)
        {
            return new ViewKeyValues(new Dictionary<string, System.Text.Json.JsonElement>(), null, null, 0, ex.Message);
        }
        catch (AggregateOverflowException ex)
        {
            return new ViewKeyValues(new Dictionary<string, System.Text.Json.JsonElement>(), null, null, 0, Overflow: $"key {read.Key}: {ex.Message}");
        }
    }
}
