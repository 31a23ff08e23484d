// What the views give the entity partitions: the catalog's views as projections (grouped views derive key
// deltas for view partitions, vector views derive row changes for their vector partitions), the batch
// messages that carry them, and, for each applied run, the change notice subscriptions follow. Wired in
// by the composition root; the regions are looked up once the actor system is up.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Ingest;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Partitions;
using ContextLake.Views.Sql;
using ContextLake.Views.Subscriptions;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Projection;

public sealed class ViewProjections(ViewCatalog catalog, int partitions) : IProjections, IRunObserver
{
    /// <summary>Most keys in one change notice; a run that changed more sends several.</summary>
    private const int KeysPerNotice = 2000;

    private readonly Dictionary<string, long> _noticed = new(StringComparer.Ordinal);
    private IActorRef? _views;
    private IActorRef? _vectors;
    private IActorRef? _catalogActor;
    private IActorRef? _mediator;

    /// <summary>Called once the actor system has its regions (a startup hook of the composition root).</summary>
    public void Bind(ActorSystem system, IReadOnlyActorRegistry registry)
    {
        _views = registry.Get<ViewRegion>();
        _vectors = registry.Get<VectorRegion>();
        _catalogActor = registry.Get<ViewCatalogKey>();
        _mediator = DistributedPubSub.Get(system).Mediator;
    }

    public long CatalogVersion => catalog.Version;

    public IReadOnlyList<ProjectionSpec> Current =>
        catalog.Version < 0 ? [] : catalog.All.Select(v => new ProjectionSpec(v.Id, v.Definition.Source, v.Entry.Sql)).ToList();

    public IProjection Compile(ProjectionSpec spec)
    {
        var (_, incarnation) = ViewIds.Parse(spec.Id);
        var definition = ViewSql.Parse(spec.Definition);
        return definition.Vector is not null
            ? new VectorProjection(spec, definition, incarnation)
            : new GroupedProjection(spec, definition, incarnation, partitions);
    }

    public IDownstreamBatch Batch(DownstreamTarget target, string channel, int source, long prev, long through, IReadOnlyList<IDownstreamChange> changes) =>
        target.Region switch
        {
            ViewRegion.TypeName => new ApplyViewDeltas(target.Partition, channel, source, prev, through, changes.Cast<KeyDelta>().ToList(), null),
            VectorRegion.TypeName => new ApplyVectorChanges(target.Partition, channel, source, prev, through, changes.Cast<VectorChange>().ToList(), null),
            _ => throw new ArgumentException($"no downstream region '{target.Region}'", nameof(target)),
        };

    public IActorRef Region(string region) => region switch
    {
        ViewRegion.TypeName => _views ?? throw Unbound(),
        VectorRegion.TypeName => _vectors ?? throw Unbound(),
        _ => throw new ArgumentException($"no downstream region '{region}'", nameof(region)),
    };

    public void Backfilled(ProjectionSpec spec, int partition, long events)
    {
        var (name, incarnation) = ViewIds.Parse(spec.Id);
        (_catalogActor ?? throw Unbound()).Tell(new PartitionBackfilled(name, incarnation, partition, events));
    }

    /// <summary>
    /// Publishes the run's change notice before its watermark goes to the coordinator. A long one is cut: only the last
    /// piece moves the stream's notice position, so a subscription hub never follows an epoch with half its keys.
    /// </summary>
    public void Applied(string stream, long upTo, IReadOnlyCollection<string> keys)
    {
        var mediator = _mediator ?? throw Unbound();
        var changed = keys.Select(k => ViewKeyAddress.Parse(k)).Select(a => new ChangedViewKey(a.View, a.Incarnation, a.Key, [upTo])).ToList();
        var before = _noticed.GetValueOrDefault(stream);
        for (var start = 0; ; start += KeysPerNotice)
        {
            var last = start + KeysPerNotice >= changed.Count;
            mediator.Tell(new Publish(SubscriptionTopics.ViewChanges,
                new ViewChangeNotice(stream, last ? upTo : before, changed.GetRange(start, Math.Min(KeysPerNotice, changed.Count - start)))));
            if (last) break;
        }
        _noticed[stream] = Math.Max(before, upTo);
    }

    private static InvalidOperationException Unbound() => new("ViewProjections is used before the actor system bound its regions");
}

/// <summary>A grouped view: each row change becomes key deltas, sent to the view partition of each key.</summary>
internal sealed class GroupedProjection(ProjectionSpec spec, ViewDefinition definition, long incarnation, int partitions) : IProjection
{
    private static readonly string[] PartitionIds = Enumerable.Range(0, ContextLake.Platform.Hosting.StateOptions.MaxPartitions).Select(KeyGroups.Id).ToArray();

    public ProjectionSpec Spec { get; } = spec;

    public void Project(RowChange change, IProjectionSink sink)
    {
        foreach (var delta in ViewProjector.Project(definition, incarnation, change))
        {
            var address = delta.AddressText;
            sink.Add(new DownstreamTarget(ViewRegion.TypeName, PartitionIds[KeyGroups.PartitionOf(address, partitions)]), delta);
            sink.Changed(address);
        }
    }
}

/// <summary>A vector view: each row change becomes a vector change for the vector partition of its entity.</summary>
internal sealed class VectorProjection(ProjectionSpec spec, ViewDefinition definition, long incarnation) : IProjection
{
    private readonly VectorSpec _vector = definition.Vector!;

    public ProjectionSpec Spec { get; } = spec;

    public void Project(RowChange change, IProjectionSink sink)
    {
        if (VectorProjector.Project(definition, change) is not { } vectorChange) return;
        var partition = new VectorPartitionAddress(definition.Name, incarnation, VectorPartitionAddress.PartitionOf(change.EntityId, _vector.Partitions));
        sink.Add(new DownstreamTarget(VectorRegion.TypeName, partition.ToString()), vectorChange);
    }
}
