// How long a failover left each partition and each singleton unavailable, measured on the node that takes it over. Every
// node remembers when each member became unreachable (or was downed) on its own clock; when a partition finishes
// recovering here and the node it last answered from (PartitionOwners) is such a lost member, or a persistent singleton
// finishes recovering here while a member older than this one (the previous oldest, its previous host) was lost, that is
// a takeover: now − lost-at goes to contextlake_failover_unavailable_seconds and one line to the node's log. A first start
// of a cluster, a graceful hand-off and a rebalance from a live node have no lost previous owner, so they are not counted.
// The time before the others noticed (about Cluster:HeartbeatPause) is not in the figure: no node can see it.
using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Hosting;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Telemetry;

public sealed class Failovers : IExtension
{
    /// <summary>A member lost longer ago than this is not the previous owner of anything starting now.</summary>
    private static readonly TimeSpan Recent = TimeSpan.FromMinutes(5);

    private readonly ExtendedActorSystem _system;
    private readonly ILoggingAdapter _log;
    private readonly object _gate = new();
    private readonly Dictionary<Address, (Member Member, DateTime At, string How)> _lost = new();
    private readonly HashSet<(string Name, Address From, DateTime At)> _counted = new();
    private PartitionOwners? _owners;

    public Failovers(ExtendedActorSystem system)
    {
        _system = system;
        _log = Logging.GetLogger(system, "failover");
    }

    public static Failovers Get(ActorSystem system) => system.WithExtension<Failovers, FailoversId>();

    /// <summary>Starts measuring: the node's record of where partitions last answered, and a watch on membership.</summary>
    public void Start(PartitionOwners owners)
    {
        lock (_gate) _owners = owners;
        _system.ActorOf(Props.Create(() => new MembershipWatch(this)), "failover-watch");
    }

    /// <summary>A partition of <paramref name="region"/> finished recovering on this node.</summary>
    public void PartitionReady(string region, int partition, int keys, TimeSpan recovery)
    {
        if (partition < 0 || Volatile.Read(ref _owners) is not { } owners) return;
        var self = Cluster.Get(_system).SelfAddress;
        if (owners.Of(region, partition) is not { } previous || previous == self) return;
        Record(region, $"{region}-{partition}", previous,
            $"recovered {keys.ToString("N0", CultureInfo.InvariantCulture)} keys in {recovery.TotalSeconds:0.0} s");
    }

    /// <summary>The persistent singleton <paramref name="name"/> finished recovering on this node (the oldest).</summary>
    public void SingletonReady(string name)
    {
        if (Volatile.Read(ref _owners) is null) return;
        var self = Cluster.Get(_system).SelfMember;
        Address? previous;
        lock (_gate)
        {
            previous = _lost.Values.Where(l => DateTime.UtcNow - l.At < Recent && l.Member.IsOlderThan(self))
                .OrderBy(l => l.Member, Member.AgeOrdering).Select(l => l.Member.Address).FirstOrDefault();
        }
        if (previous is not null) Record("singleton", name, previous, "recovered from the journal");
    }

    private void Record(string kind, string name, Address previous, string recovered)
    {
        DateTime at;
        string how;
        lock (_gate)
        {
            if (!_lost.TryGetValue(previous, out var lost) || DateTime.UtcNow - lost.At > Recent) return;
            // A singleton restarted by its backoff supervisor, or a partition started again, is one takeover, not several.
            if (!_counted.Add((name, previous, lost.At))) return;
            (at, how) = (lost.At, lost.How);
        }
        var unavailable = DateTime.UtcNow - at;
        Metrics.FailoverUnavailableSeconds.WithLabels(kind, name).Observe(unavailable.TotalSeconds);
        Metrics.FailoverTakeovers.WithLabels(kind).Inc();
        _log.Info("takeover: {0} from {1} ready on this node {2:0.0} s after that node {3} ({4})", name, previous, unavailable.TotalSeconds, how, recovered);
    }

    private void Lost(Member member, string how)
    {
        lock (_gate)
            if (!_lost.ContainsKey(member.Address))
                _lost[member.Address] = (member, DateTime.UtcNow, how);
    }

    /// <summary>The member is back (reachable again and not downed, or a new incarnation joined at its address).</summary>
    private void Back(Member member)
    {
        lock (_gate) _lost.Remove(member.Address);
    }

    /// <summary>Tells the extension when members are lost and come back, as this node sees it.</summary>
    private sealed class MembershipWatch : ReceiveActor
    {
        public MembershipWatch(Failovers failovers)
        {
            Receive<ClusterEvent.UnreachableMember>(e => failovers.Lost(e.Member, "became unreachable"));
            Receive<ClusterEvent.MemberDowned>(e => failovers.Lost(e.Member, "was downed"));
            Receive<ClusterEvent.ReachableMember>(e =>
            {
                if (e.Member.Status != MemberStatus.Down) failovers.Back(e.Member);
            });
            Receive<ClusterEvent.MemberJoined>(e => failovers.BackIfNew(e.Member));
            Receive<ClusterEvent.MemberUp>(e => failovers.BackIfNew(e.Member));
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        }

        protected override void PreStart() =>
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }

    /// <summary>A member joined at a lost member's address: a new incarnation, so the old one is no one's previous owner now.</summary>
    private void BackIfNew(Member member)
    {
        lock (_gate)
            if (_lost.TryGetValue(member.Address, out var lost) && !lost.Member.UniqueAddress.Equals(member.UniqueAddress))
                _lost.Remove(member.Address);
    }
}

public sealed class FailoversId : ExtensionIdProvider<Failovers>
{
    public override Failovers CreateExtension(ExtendedActorSystem system) => new(system);
}

public static class FailoverHosting
{
    /// <summary>Measures takeovers on this node (see <see cref="Failovers"/>).</summary>
    public static AkkaConfigurationBuilder WithFailoverTelemetry(this AkkaConfigurationBuilder builder, PartitionOwners owners) =>
        builder.WithActors((system, _) => Failovers.Get(system).Start(owners));
}
