// Hosts the HTTP write streams: a shard region ("writes") whose entity "k" is the write log of stream k (WriteStreams),
// so sharding places the streams on the nodes and moves a lost node's streams to the survivors, and this node's
// WriteStreamKeeper, which keeps every stream started. A write log whose journal fails stops; the keeper's next
// greeting (or the next batch) starts it again, recovered from the journal.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Connectors.Http;

/// <summary>Key under which the write streams' shard region is registered.</summary>
public sealed class WriteStreamRegion;

public static class WriteStreamHosting
{
    public static AkkaConfigurationBuilder WithHttpWriteStreams(this AkkaConfigurationBuilder builder, NodeOptions options, EpochClock clock, WriteStreams streams)
    {
        builder.AddHocon(EmbeddedHocon.Load(typeof(HttpWriteLog).Assembly, "ContextLake.Connectors.connectors.conf"), HoconAddMode.Prepend);
        return builder
            .WithShardRegion<WriteStreamRegion>(
                WriteStreams.RegionName,
                (_, registry) =>
                {
                    var runs = PlatformHosting.StreamRuns(registry, options);
                    return id => Props.Create(() => new HttpWriteLog(Platform.State.KeyGroups.ParseId(id), streams.Count, runs, options.Writes, clock));
                },
                new PartitionMessageExtractor(),
                // Least-shard allocation (Akka's default), not the partitions' rendezvous homes: streams have no standbys,
                // and writes without keys go to a stream of the node that takes them, so each node should host some.
                new ShardOptions { StateStoreMode = StateStoreMode.DData, RememberEntities = false, ShouldPassivateIdleEntities = false })
            .WithActors((system, registry) =>
                registry.Register<WriteStreamKeeperKey>(system.ActorOf(
                    Props.Create(() => new WriteStreamKeeper(registry.Get<WriteStreamRegion>(), streams)), "write-stream-keeper")));
    }
}
