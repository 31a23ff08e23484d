// Starts this node's partition keeper over the entity and view regions (see PartitionKeeper): every
// partition is started wherever sharding places it, and /readyz knows whether all of them answer.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Views.Partitions;

namespace ContextLake.Gateway.Operations;

public static class PartitionKeeperHosting
{
    public static AkkaConfigurationBuilder WithPartitionKeeper(this AkkaConfigurationBuilder builder, NodeOptions options, PartitionOwners owners) =>
        builder.WithActors((system, registry) =>
        {
            IReadOnlyDictionary<string, IActorRef> regions = new Dictionary<string, IActorRef>
            {
                [EntityRegion.TypeName] = registry.Get<EntityRegion>(),
                [ViewRegion.TypeName] = registry.Get<ViewRegion>(),
            };
            registry.Register<PartitionKeeperKey>(system.ActorOf(Props.Create(() => new PartitionKeeper(regions, options.State.Partitions, owners)), "partition-keeper"));
        });
}
