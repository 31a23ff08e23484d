// Wires the Platform into an Akka.Hosting ActorSystem: remoting, a cluster (of one unless seed nodes
// are configured), the SQL journal, the entity partitions' shard region, the epoch coordinator and this
// node's epoch replica, and the node's run tracker.
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
using ContextLake.Platform.Ingest;
using ContextLake.Platform.Journal;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Hosting;

public static class PlatformHosting
{
    public static Config DefaultConfig { get; } = EmbeddedHocon.Load(typeof(PlatformHosting).Assembly, "ContextLake.Platform.contextlake.conf");

    /// <summary>
    /// Starts a partition region (entity, view, vector): coordinator state in distributed data, partitions never passivated
    /// (contextlake.conf), each placed at its rendezvous home (RendezvousAllocation), where its standby runs.
    /// </summary>
    public static AkkaConfigurationBuilder WithPartitionRegion<TKey>(this AkkaConfigurationBuilder builder, string typeName,
        Func<string, Props> partitionProps, IMessageExtractor extractor) =>
        builder
            .AddHocon(ClusterSharding.DefaultConfig().WithFallback(Akka.DistributedData.DistributedData.DefaultConfig()), HoconAddMode.Append)
            .WithActors((system, registry) =>
            {
                var settings = ClusterShardingSettings.Create(system).WithStateStoreMode(StateStoreMode.DData).WithRememberEntities(false);
                var region = ClusterSharding.Get(system).Start(typeName, partitionProps, settings, extractor, new RendezvousAllocation(typeName),
                    PoisonPill.Instance);
                registry.Register<TKey>(region);
            });

    public static AkkaConfigurationBuilder WithContextLakePlatform(
        this AkkaConfigurationBuilder builder, NodeOptions options, JournalDatabase journal, EpochClock clock,
        IProjections projections, IRunObserver observer, LocalPartitions local)
    {
        if (journal.PluginConnections() is { } connections) builder.AddSetup(connections);
        builder
            .AddHocon(ClusterHocon(options), HoconAddMode.Prepend)
            .AddHocon(journal.ToHocon().WithFallback(DefaultConfig), HoconAddMode.Prepend)
            .AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append)
            .WithRemoting(options.Cluster.Hostname, options.Cluster.Port)
            .WithClustering(new ClusterOptions
            {
                SeedNodes = options.Cluster.SeedNodes,
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .WithPartitionRegion<EntityRegion>(
                EntityRegion.TypeName,
                partition => Props.Create(() => new EntityPartition(partition, clock, options.State, projections, local, PartitionRole.Owner)),
                new PartitionMessageExtractor())
            .WithSingleton<EpochCoordinatorKey>(
                "epoch-coordinator",
                JournaledSingleton.Props(Props.Create(() => new EpochCoordinator(options.Epochs.PublishInterval, options.Epochs.SnapshotEvery, options.Epochs.Retention)), "coordinator"),
                new ClusterSingletonOptions())
            .WithActors((system, registry) =>
            {
                clock.UseJournal((n, cancel) => EpochHistory.FindAsync(system, n, cancel));
                system.ActorOf(Props.Create(() => new EpochReplica(clock, registry.Get<EpochCoordinatorKey>())), "epoch-replica");
                registry.Register<RunTrackerKey>(system.ActorOf(Props.Create(() =>
                    new RunTracker(registry.Get<EntityRegion>(), registry.Get<EpochCoordinatorKey>(), options.State, observer,
                        options.Cluster.DownRemovalMargin + TimeSpan.FromMilliseconds(500))), "run-tracker"));
            });

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

    /// <summary>
    /// The path from a stream's events to committed state, for any source on this node: one per node (its registry), so every
    /// source shares its budget of events in flight.
    /// </summary>
    public static StreamRuns StreamRuns(IReadOnlyActorRegistry registry, NodeOptions options) =>
        NodeStreamRuns.GetValue(registry, r => new StreamRuns(r.Get<RunTrackerKey>(), r.Get<EpochCoordinatorKey>(), options.State));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyActorRegistry, StreamRuns> NodeStreamRuns = new();

    /// <summary>
    /// The cluster timings users set (failure detection, how long the split-brain resolver waits before downing, the margin
    /// before a downed node's shards and singletons start elsewhere: docs/operations.md, "Failover"), the leader's and the
    /// reaper's ticks at half their Akka defaults so that none of them adds a whole second to a failover, a hand-off timeout of
    /// 10 s instead of Akka's 60 (a rebalance begun from or to a node that then dies holds its shard until it), and a frame size that
    /// lets the largest single event the node accepts cross nodes (parts are cut at State:MessageBytes, far below it).
    /// </summary>
    private static Config ClusterHocon(NodeOptions options)
    {
        var frame = Math.Max(128 * 1024, Math.Max(options.Http.MaxBodyBytes, 4L * options.State.MessageBytes) + 64 * 1024);
        static string Ms(TimeSpan t) => $"{(long)t.TotalMilliseconds}ms";
        var cluster = options.Cluster;
        return ConfigurationFactory.ParseString($"""
            akka.cluster.failure-detector.heartbeat-interval = {Ms(cluster.HeartbeatInterval)}
            akka.cluster.failure-detector.acceptable-heartbeat-pause = {Ms(cluster.HeartbeatPause)}
            akka.cluster.unreachable-nodes-reaper-interval = 500ms
            akka.cluster.leader-actions-interval = 500ms
            akka.cluster.down-removal-margin = {Ms(cluster.DownRemovalMargin)}
            akka.cluster.sharding.handoff-timeout = 10s
            akka.cluster.split-brain-resolver.stable-after = {Ms(cluster.StableAfter)}
            akka.remote.dot-netty.tcp.maximum-frame-size = {frame}b
            akka.remote.dot-netty.tcp.send-buffer-size = {Math.Max(256 * 1024, 2 * frame)}b
            akka.remote.dot-netty.tcp.receive-buffer-size = {Math.Max(256 * 1024, 2 * frame)}b
            """);
    }
}

/// <summary>
/// Sharding of partition regions: a message names its partition ("0".."P-1"), which is both the entity id and the
/// shard id, so sharding places (and moves) whole key groups.
/// </summary>
public sealed class PartitionMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) => message is IPartitionMessage m ? m.Partition : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
