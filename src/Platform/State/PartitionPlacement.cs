// Where a partition lives, and where its standby lives: rendezvous (highest random weight) hashing of the partition over
// the nodes. Sharding allocates a partition to the node of highest weight among those with a region and rebalances it
// there (RendezvousAllocation); its standby lives on the node of highest weight other than its owner. So when the owner
// is lost, the partition's new home (the highest among the survivors) is the node that already holds its standby, and a
// node leaving or joining moves only the partitions and standbys whose highest node it is.
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace ContextLake.Platform.State;

public static class PartitionPlacement
{
    /// <summary>The partition's weight on a node: FNV-1a of both names, mixed (names that differ in a port would weigh alike without).</summary>
    public static uint Weight(string region, string shardId, Address node)
    {
        var h = KeyGroups.StableHash($"{region}/{shardId}@{node}");
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return h;
    }

    /// <summary>The node of highest weight for the partition among <paramref name="nodes"/>, or null when there is none.</summary>
    public static Address? Home(string region, string shardId, IEnumerable<Address> nodes)
    {
        Address? best = null;
        var bestWeight = 0u;
        foreach (var node in nodes)
        {
            var weight = Weight(region, shardId, node);
            if (best is null || weight > bestWeight || (weight == bestWeight && string.CompareOrdinal(node.ToString(), best.ToString()) > 0))
                (best, bestWeight) = (node, weight);
        }
        return best;
    }

    /// <summary>Where the partition's standby belongs: its home among the nodes other than its owner.</summary>
    public static Address? StandbyNode(string region, string shardId, Address owner, IEnumerable<Address> nodes) =>
        Home(region, shardId, nodes.Where(n => n != owner));
}

/// <summary>
/// Allocates each partition to its rendezvous home among the nodes with a region, and moves misplaced ones home four at a time
/// (after a node joins or comes back): the move lands where the partition's standby already runs. Nothing moves while a member
/// is unreachable, nor until the nodes with a region have stayed the same for two rounds: a hand-off between live nodes in the
/// middle of a failover would stop a partition the survivors are reading and writing, for nothing.
/// </summary>
public sealed class RendezvousAllocation(string region) : IActorSystemDependentAllocationStrategy
{
    private const int MovesPerRound = 4;
    private const int StableRoundsBeforeMoving = 2;
    private Address _self = Address.AllSystems;
    private Akka.Cluster.Cluster? _cluster;
    private HashSet<Address> _lastNodes = new();
    private int _stableRounds;

    public void Start(ActorSystem system)
    {
        _cluster = Akka.Cluster.Cluster.Get(system);
        _self = _cluster.SelfAddress;
    }

    private Address NodeOf(IActorRef shardRegion) => shardRegion.Path.Address.HasGlobalScope ? shardRegion.Path.Address : _self;

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var home = PartitionPlacement.Home(region, shardId, currentShardAllocations.Keys.Select(NodeOf));
        var chosen = currentShardAllocations.Keys.FirstOrDefault(r => NodeOf(r) == home) ?? requester;
        return Task.FromResult(chosen);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations,
        IImmutableSet<string> rebalanceInProgress)
    {
        var none = Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);
        var nodes = currentShardAllocations.Keys.Select(NodeOf).ToList();
        if (!_lastNodes.SetEquals(nodes) || _cluster?.State.Unreachable.Count > 0)
        {
            _lastNodes = nodes.ToHashSet();
            _stableRounds = 0;
            return none;
        }
        if (++_stableRounds < StableRoundsBeforeMoving || rebalanceInProgress.Count > 0) return none;
        var moves = currentShardAllocations
            .SelectMany(a => a.Value.Where(shard => PartitionPlacement.Home(region, shard, nodes) != NodeOf(a.Key)))
            .Order(StringComparer.Ordinal)
            .Take(MovesPerRound);
        return Task.FromResult<IImmutableSet<string>>(moves.ToImmutableHashSet());
    }
}
