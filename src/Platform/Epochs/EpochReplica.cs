// Keeps this node's EpochClock current: subscribes to the coordinator's publications and, on start
// (and after a coordinator failover), asks it for the latest epoch.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace ContextLake.Platform.Epochs;

public sealed class EpochReplica : ReceiveActor, IWithTimers
{
    private sealed record AskLatest
    {
        public static AskLatest Instance { get; } = new();
    }

    public EpochReplica(EpochClock clock, IActorRef coordinator)
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(EpochTopics.Epochs, Self));
        Receive<SubscribeAck>(_ => { });
        Receive<Epoch>(epoch =>
        {
            var before = clock.Latest.N;
            clock.Advance(epoch);
            if (clock.Latest.N == before) return;
            Telemetry.Metrics.EpochNumber.Set(epoch.N);
            Telemetry.Metrics.EpochsPublished.Inc();
            Telemetry.FreshnessTracker.Shared.Published(epoch);
        });
        Receive<AskLatest>(_ => coordinator.Tell(GetLatestEpoch.Instance));
        Timers.StartPeriodicTimer("ask-latest", AskLatest.Instance, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    public ITimerScheduler Timers { get; set; } = null!;
}
