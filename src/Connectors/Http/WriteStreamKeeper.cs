// Keeps every HTTP write stream started: sharding starts a stream's write log on its first message, so this actor greets
// each one every two seconds wherever sharding has placed it. After a failover the survivors' keepers start the moved
// streams at once, and each recovers and finishes the batches it had journaled but not applied without waiting for a
// client. The answers tell the node's WriteStreams which streams are alive and which run on this node.
using Akka.Actor;
using ContextLake.Platform.State;

namespace ContextLake.Connectors.Http;

public sealed class WriteStreamKeeper : ReceiveActor, IWithTimers
{
    private sealed record Greet
    {
        public static Greet Instance { get; } = new();
    }

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    public WriteStreamKeeper(IActorRef region, WriteStreams streams)
    {
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
        Receive<Greet>(_ =>
        {
            streams.Refresh(DateTime.UtcNow);
            for (var s = 0; s < streams.Count; s++) region.Tell(new StartPartition(WriteStreams.Id(s)));
        });
        Receive<PartitionStarted>(started =>
        {
            var address = Sender.Path.Address;
            streams.Answered(KeyGroups.ParseId(started.Partition), address.HasLocalScope || address == self, started.CommittedThrough, DateTime.UtcNow);
        });
        Timers.StartPeriodicTimer("greet", Greet.Instance, TimeSpan.Zero, Every);
    }

    public ITimerScheduler Timers { get; set; } = null!;
}

/// <summary>Key under which the node's write stream keeper is registered.</summary>
public sealed class WriteStreamKeeperKey;
