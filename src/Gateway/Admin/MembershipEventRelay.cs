// Relays cluster membership events (current members first, as events) into a channel that one
// /admin/cluster/events response drains; stopping the actor ends the response.
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;

namespace ContextLake.Gateway.Admin;

public sealed record MembershipEventDoc(DateTimeOffset At, string Event, string Address, string Status, IReadOnlyList<string> Roles, string AppVersion);

public sealed class MembershipEventRelay : ReceiveActor
{
    private readonly ChannelWriter<MembershipEventDoc> _writer;

    public MembershipEventRelay(ChannelWriter<MembershipEventDoc> writer)
    {
        _writer = writer;
        Receive<ClusterEvent.IMemberEvent>(e => Relay(Name(e), e.Member));
        Receive<ClusterEvent.UnreachableMember>(e => Relay("unreachable", e.Member));
        Receive<ClusterEvent.ReachableMember>(e => Relay("reachable", e.Member));
    }

    public static Props PropsFor(ChannelWriter<MembershipEventDoc> writer) => Props.Create(() => new MembershipEventRelay(writer));

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        _writer.TryComplete();
    }

    private static string Name(ClusterEvent.IMemberEvent e) => e switch
    {
        ClusterEvent.MemberJoined => "joined",
        ClusterEvent.MemberWeaklyUp => "weakly-up",
        ClusterEvent.MemberUp => "up",
        ClusterEvent.MemberLeft => "leaving",
        ClusterEvent.MemberExited => "exited",
        ClusterEvent.MemberDowned => "downed",
        ClusterEvent.MemberRemoved => "removed",
        _ => e.GetType().Name,
    };

    private void Relay(string name, Member member)
    {
        // A reader far behind (the channel is bounded) loses the oldest events rather than holding the actor.
        _writer.TryWrite(new MembershipEventDoc(DateTimeOffset.UtcNow, name, member.Address.ToString(), ClusterAdmin.StatusName(member.Status),
            member.Roles.OrderBy(r => r, StringComparer.Ordinal).ToList(), member.AppVersion.ToString()));
    }
}
