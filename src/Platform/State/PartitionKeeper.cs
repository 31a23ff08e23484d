// Keeps every partition of the node's regions started: sharding starts a partition on its first message,
// so this actor greets each one every couple of seconds (wherever sharding has placed it) and remembers
// which answered, having recovered. After a failover the survivors' keepers start the moved partitions at
// once instead of waiting for a write or a read to; /readyz asks whether every partition has answered.
using Akka.Actor;

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

    public PartitionKeeper(IReadOnlyDictionary<string, IActorRef> regions, int partitions, PartitionOwners owners)
    {
        var self = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
        Receive<Greet>(_ =>
        {
            foreach (var region in regions.Values)
                for (var p = 0; p < partitions; p++)
                    region.Tell(new StartPartition(KeyGroups.Id(p)));
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
}

/// <summary>Key under which the node's partition keeper is registered.</summary>
public sealed class PartitionKeeperKey;
