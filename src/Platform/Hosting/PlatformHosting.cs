// Wires the Platform into an Akka.Hosting ActorSystem: remoting, a cluster (of one unless seed nodes
// are configured), the SQL journal, and the entity shard region.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql;
using Akka.Remote.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Journal;

namespace ContextLake.Platform.Hosting;

public static class PlatformHosting
{
    public static Config DefaultConfig { get; } = EmbeddedHocon.Load(typeof(PlatformHosting).Assembly, "ContextLake.Platform.contextlake.conf");

    /// <summary>How every shard region of the node runs: coordinator state in distributed data, idle entities passivated.</summary>
    public static ShardOptions ShardOptionsFor(NodeOptions options) => new()
    {
        StateStoreMode = StateStoreMode.DData,
        RememberEntities = false,
        PassivateIdleEntityAfter = options.Entities.PassivateAfter,
    };

    public static AkkaConfigurationBuilder WithContextLakePlatform(
        this AkkaConfigurationBuilder builder, NodeOptions options, JournalDatabase journal, EpochClock clock)
    {
        builder
            .AddHocon(ClusterHocon(options.Cluster), HoconAddMode.Prepend)
            .AddHocon(journal.ToHocon().WithFallback(DefaultConfig), HoconAddMode.Prepend)
            .AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            .WithRemoting(options.Cluster.Hostname, options.Cluster.Port)
            .WithClustering(new ClusterOptions
            {
                SeedNodes = options.Cluster.SeedNodes,
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .WithShardRegion<EntityRegion>(
                EntityRegion.TypeName,
                entityId => Props.Create(() => new EntityActor(entityId, options.Entities.SnapshotEvery, clock)),
                new EntityMessageExtractor(options.Cluster.Shards),
                ShardOptionsFor(options))
            .WithSingleton<EpochCoordinatorKey>(
                "epoch-coordinator",
                Props.Create(() => new EpochCoordinator(options.Epochs.PublishInterval, options.Epochs.SnapshotEvery)),
                new ClusterSingletonOptions())
            .WithActors((system, registry) =>
                system.ActorOf(Props.Create(() => new EpochReplica(clock, registry.Get<EpochCoordinatorKey>())), "epoch-replica"));

        if (options.Cluster.SeedNodes.Length == 0)
        {
            // A node without seed nodes is a cluster of one: it joins itself.
            builder.AddStartup((system, _) =>
            {
                var cluster = Akka.Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        }

        return builder;
    }

    /// <summary>The cluster timings users set: how long the split-brain resolver waits before downing.</summary>
    private static Config ClusterHocon(ClusterNodeOptions cluster) => ConfigurationFactory.ParseString(
        $"akka.cluster.split-brain-resolver.stable-after = {(long)cluster.StableAfter.TotalMilliseconds}ms");
}
