// Keeps every partition of the node's regions started: sharding starts a partition on its first message,
// so this actor greets each one every couple of seconds (wherever sharding has placed it) and remembers
// which answered, having recovered. After a failover the survivors' keepers start the moved partitions at
// once instead of waiting for a write or a read to; /readyz asks whether every partition has answered.
// It also keeps this node's standbys (State:Standbys): for every partition whose standby node (PartitionPlacement:
// the partition's home among the Up members other than its owner, unreachable ones included, so a standby stays put
// while its owner is being failed over) is this one, a standby runs here as a child named "{region}-{partition}".
using Akka.Actor;
using Akka.Cluster;

namespace ContextLake.Platform.State;

public sealed class PartitionKeeper : ReceiveActor, IWithTimers
{
    private sealed record Greet
    {
        public static Greet Instance { get; } = new();
    }

    /// <summary>Which partitions have answered, and since when, per region: what readiness asks.</summary>
    public sealed record GetStatus
    {
        public static GetStatus Instance { get; } = new();
    }

    public sealed record Status(IReadOnlyDictionary<string, int> Started, int PartitionsPerRegion, IReadOnlyList<string> Missing);

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Forget = TimeSpan.FromSeconds(10);
    private readonly Dictionary<(string Region, string Partition), DateTime> _answered = new();

    /// <summary>The name of partition <paramref name="partition"/>'s standby actor under the keeper of its node.</summary>
    public static string StandbyName(string region, int partition) => $"{region}-{partition}";

    /// <summary>The path of a standby under the keeper of <paramref name="node"/>.</summary>
    public static string StandbyPath(Address node, string region, int partition) => $"{node}/user/partition-keeper/{StandbyName(region, partition)}";

    public PartitionKeeper(IReadOnlyDictionary<string, IActorRef> regions, int partitions, PartitionOwners owners,
        IReadOnlyDictionary<string, Func<string, Props>> standbys, LocalPartitions local)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var self = cluster.SelfAddress;
        Receive<Greet>(_ =>
        {
            foreach (var region in regions.Values)
                for (var p = 0; p < partitions; p++)
                    region.Tell(new StartPartition(KeyGroups.Id(p)));
            if (standbys.Count > 0) PlaceStandbys(cluster, partitions, owners, standbys, local);
        });
        Receive<PartitionStarted>(s =>
        {
            _answered[(s.Region, s.Partition)] = DateTime.UtcNow;
            var node = Sender.Path.Address.HasGlobalScope ? Sender.Path.Address : self;
            owners.Answered(s.Region, KeyGroups.ParseId(s.Partition), node);
        });
        Receive<GetStatus>(_ =>
        {
            var now = DateTime.UtcNow;
            var missing = new List<string>();
            var started = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var region in regions.Keys.Order(StringComparer.Ordinal))
            {
                started[region] = 0;
                for (var p = 0; p < partitions; p++)
                {
                    if (_answered.TryGetValue((region, KeyGroups.Id(p)), out var at) && now - at < Forget) started[region]++;
                    else missing.Add($"{region}/{p}");
                }
            }
            Sender.Tell(new Status(started, partitions, missing));
        });
        Timers.StartPeriodicTimer("greet", Greet.Instance, TimeSpan.Zero, Every);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private void PlaceStandbys(Akka.Cluster.Cluster cluster, int partitions, PartitionOwners owners, IReadOnlyDictionary<string, Func<string, Props>> standbys,
        LocalPartitions local)
    {
        var self = cluster.SelfAddress;
        var nodes = cluster.State.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address).ToList();
        foreach (var (region, props) in standbys)
        {
            for (var p = 0; p < partitions; p++)
            {
                var name = StandbyName(region, p);
                var running = Context.Child(name);
                var owner = owners.Of(region, p);
                // Until the partition has answered from somewhere, and while it runs here, there is nothing to stand by for.
                var here = owner is not null && owner != self && local.Find<object>(region, p) is null
                           && PartitionPlacement.StandbyNode(region, KeyGroups.Id(p), owner, nodes) == self;
                if (here && running.IsNobody()) Context.ActorOf(props(KeyGroups.Id(p)), name);
                // A standby of a partition now owned here is stopped by the owner (it hands its state over, or is told to go).
                else if (!here && owner is not null && owner != self && local.Find<object>(region, p) is null && !running.IsNobody()) Context.Stop(running);
            }
            Telemetry.Metrics.Standbys.WithLabels(region).Set(local.StandbyCount(region));
        }
    }
}

/// <summary>Key under which the node's partition keeper is registered.</summary>
public sealed class PartitionKeeperKey;
