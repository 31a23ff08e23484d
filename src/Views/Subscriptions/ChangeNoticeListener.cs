// Feeds this node's SubscriptionHub: change notices from every node's writers and the committed epochs,
// both from DistributedPubSub; the epoch clock is polled too, so an epoch publication this actor missed
// (it only heard a later one, or the replica asked the coordinator) still reaches the hub.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using ContextLake.Platform.Epochs;

namespace ContextLake.Views.Subscriptions;

public sealed class ChangeNoticeListener : ReceiveActor, IWithTimers
{
    private sealed record Poll
    {
        public static Poll Instance { get; } = new();
    }

    public ChangeNoticeListener(SubscriptionHub hub, EpochClock clock)
    {
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        mediator.Tell(new Subscribe(SubscriptionTopics.ViewChanges, Self));
        mediator.Tell(new Subscribe(EpochTopics.Epochs, Self));
        Receive<SubscribeAck>(_ => { });
        Receive<ViewChangeNotice>(hub.Notice);
        Receive<Epoch>(hub.Committed);
        Receive<Poll>(_ =>
        {
            if (clock.Known) hub.Committed(clock.Latest);
            hub.CheckStalled();
        });
        Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.FromMilliseconds(200));
    }

    public ITimerScheduler Timers { get; set; } = null!;
}
