// Wires the views into the actor system: the view shard region, the catalog singleton and its local
// replica, and the StreamApplier every source uses (entities, then views, then the watermark).
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Ingest;
using ContextLake.Views.Actors;
using ContextLake.Views.Catalog;
using ContextLake.Views.Ingest;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Hosting;

public static class ViewsHosting
{
    public static AkkaConfigurationBuilder WithContextLakeViews(
        this AkkaConfigurationBuilder builder, NodeOptions options, ViewCatalog catalog, EpochClock clock)
    {
        builder
            .AddHocon(EmbeddedHocon.Load(typeof(ViewsHosting).Assembly, "ContextLake.Views.views.conf"), HoconAddMode.Prepend)
            .WithShardRegion<ViewRegion>(
                ViewRegion.TypeName,
                entityId => Props.Create(() => new ViewKeyActor(entityId, catalog, clock, options.Entities.SnapshotEvery)),
                new ViewMessageExtractor(options.Cluster.Shards),
                PlatformHosting.ShardOptionsFor(options))
            .WithShardRegion<VectorRegion>(
                VectorRegion.TypeName,
                entityId => Props.Create(() => new VectorPartitionActor(entityId, catalog, clock, options.Entities.SnapshotEvery)),
                new VectorMessageExtractor(options.Cluster.Shards),
                // A partition holds many vectors and rebuilds its index on recovery: it is not passivated when idle.
                VectorShardOptions(options))
            .WithSingleton<ViewCatalogKey>(
                "view-catalog",
                (system, registry, _) =>
                {
                    var writer = CreateViewWriter(system, registry, options, catalog);
                    return Props.Create(() => new ViewCatalogActor(entry => Props.Create(() => new ViewBackfill(entry, catalog, writer))));
                },
                new ClusterSingletonOptions())
            .WithActors((system, registry) =>
                system.ActorOf(Props.Create(() => new ViewCatalogReplica(catalog, registry.Get<ViewCatalogKey>())), "view-catalog-replica"));
        return builder;
    }

    private static ShardOptions VectorShardOptions(NodeOptions options)
    {
        var shardOptions = PlatformHosting.ShardOptionsFor(options);
        shardOptions.PassivateIdleEntityAfter = null;
        return shardOptions;
    }

    public static ViewWriter CreateViewWriter(ActorSystem system, IReadOnlyActorRegistry registry, NodeOptions options, ViewCatalog catalog) =>
        new(registry.Get<ViewRegion>(), registry.Get<VectorRegion>(), catalog, options.Entities.AskTimeout, Logging.GetLogger(system, typeof(ViewWriter)));

    /// <summary>The path from a stream's events to committed state, for any source.</summary>
    public static StreamApplier CreateStreamApplier(ActorSystem system, IReadOnlyActorRegistry registry, NodeOptions options, ViewCatalog catalog) =>
        new(
            new EntityWriter(registry.Get<EntityRegion>(), options.Entities.AskTimeout, Logging.GetLogger(system, typeof(EntityWriter))),
            CreateViewWriter(system, registry, options, catalog),
            registry.Get<EpochCoordinatorKey>());

}

public sealed class ViewMessageExtractor(int shards) : IMessageExtractor
{
    public string? EntityId(object message) => message is IViewKeyCommand c ? c.Address : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message) is { } id ? ShardId(id, message) : null;

    public string ShardId(string entityId, object? messageHint = null) =>
        (EntityMessageExtractor.StableHash(entityId) % (uint)shards).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class VectorMessageExtractor(int shards) : IMessageExtractor
{
    public string? EntityId(object message) => message is IVectorPartitionCommand c ? c.Address : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message) is { } id ? ShardId(id, message) : null;

    public string ShardId(string entityId, object? messageHint = null) =>
        (EntityMessageExtractor.StableHash(entityId) % (uint)shards).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
