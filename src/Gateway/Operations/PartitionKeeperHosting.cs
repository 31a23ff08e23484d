// Starts this node's partition keeper over the entity and view regions (see PartitionKeeper): every
// partition is started wherever sharding places it, and /readyz knows whether all of them answer; and the
// standbys this node keeps for partitions owned elsewhere.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;
using ContextLake.Views.Partitions;
using ContextLake.Views.Projection;

namespace ContextLake.Gateway.Operations;

public static class PartitionKeeperHosting
{
    public static AkkaConfigurationBuilder WithPartitionKeeper(this AkkaConfigurationBuilder builder, NodeOptions options, PartitionOwners owners,
        EpochClock clock, ViewCatalog catalog, ViewProjections projections, LocalPartitions local) =>
        builder.WithActors((system, registry) =>
        {
            IReadOnlyDictionary<string, IActorRef> regions = new Dictionary<string, IActorRef>
            {
                [EntityRegion.TypeName] = registry.Get<EntityRegion>(),
                [ViewRegion.TypeName] = registry.Get<ViewRegion>(),
            };
            // Standbys of entity and view partitions (a vector view's partitions have none: their searches wait for a failover).
            IReadOnlyDictionary<string, Func<string, Props>> standbys = options.State.Standbys == 0
                ? new Dictionary<string, Func<string, Props>>()
                : new Dictionary<string, Func<string, Props>>
                {
                    [EntityRegion.TypeName] = p => Props.Create(() => new EntityPartition(p, clock, options.State, projections, local, PartitionRole.Standby)),
                    [ViewRegion.TypeName] = p => Props.Create(() => new ViewPartition(p, catalog, clock, options.State, local, PartitionRole.Standby)),
                };
            registry.Register<PartitionKeeperKey>(system.ActorOf(Props.Create(() => new PartitionKeeper(regions, options.State.Partitions, owners, standbys, local)),
                "partition-keeper"));
        });
}
