// Wires the views into the actor system: the view partitions' and vector partitions' shard regions, the
// catalog singleton and its local replica, and the listener that feeds this node's subscription hub.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;
using ContextLake.Views.Partitions;
using ContextLake.Views.Projection;
using ContextLake.Views.Subscriptions;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Hosting;

public static class ViewsHosting
{
    public static AkkaConfigurationBuilder WithContextLakeViews(
        this AkkaConfigurationBuilder builder, NodeOptions options, ViewCatalog catalog, EpochClock clock, ViewProjections projections,
        LocalPartitions local, SubscriptionHub? subscriptions = null)
    {
        builder
            .AddHocon(EmbeddedHocon.Load(typeof(ViewsHosting).Assembly, "ContextLake.Views.views.conf"), HoconAddMode.Prepend)
            .WithPartitionRegion<ViewRegion>(
                ViewRegion.TypeName,
                partition => Props.Create(() => new ViewPartition(partition, catalog, clock, options.State, local, PartitionRole.Owner)),
                new PartitionMessageExtractor())
            .WithPartitionRegion<VectorRegion>(
                VectorRegion.TypeName,
                partition => Props.Create(() => new VectorPartition(partition, catalog, clock, options.State)),
                new VectorMessageExtractor(options.State.Partitions))
            .WithSingleton<ViewCatalogKey>(
                "view-catalog",
                (_, registry, _) => JournaledSingleton.Props(
                    Props.Create(() => new ViewCatalogActor(registry.Get<EntityRegion>(), options.State.Partitions, options.Limits)), "catalog"),
                new ClusterSingletonOptions())
            .WithActors((system, registry) =>
            {
                system.ActorOf(Props.Create(() => new ViewCatalogReplica(catalog, registry.Get<ViewCatalogKey>())), "view-catalog-replica");
                projections.Bind(system, registry);
            });
        if (subscriptions is not null)
            builder.WithActors((system, _) =>
                system.ActorOf(Props.Create(() => new ChangeNoticeListener(subscriptions, clock)), "change-notice-listener"));
        return builder;
    }
}

/// <summary>A vector view's partitions ("view@incarnation#k") spread over the shards by a stable hash of their address.</summary>
public sealed class VectorMessageExtractor(int shards) : IMessageExtractor
{
    public string? EntityId(object message) => message is IPartitionMessage m ? m.Partition : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message) is { } id ? ShardId(id, message) : null;

    public string ShardId(string entityId, object? messageHint = null) => KeyGroups.Id(KeyGroups.PartitionOf(entityId, shards));
}
