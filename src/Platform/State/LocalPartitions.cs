// The partitions this node hosts right now, by region and number, so the gateway reads their published
// versions directly instead of asking the actor (a partition registers its store when it starts and
// removes it when it stops or moves to another node); and the standbys it keeps for partitions owned
// elsewhere: their stores (stale-ok reads while the owner is unreachable) and their actors (a new owner
// on this node takes the standby's state over).
using System.Collections.Concurrent;
using Akka.Actor;

namespace ContextLake.Platform.State;

public sealed class LocalPartitions
{
    private readonly ConcurrentDictionary<(string Region, int Partition, PartitionRole Role), object> _stores = new();
    private readonly ConcurrentDictionary<(string Region, int Partition), IActorRef> _standbys = new();

    public void Register(string region, int partition, object store, PartitionRole role = PartitionRole.Owner) => _stores[(region, partition, role)] = store;

    public void Unregister(string region, int partition, object store, PartitionRole role = PartitionRole.Owner) =>
        _stores.TryRemove(KeyValuePair.Create((region, partition, role), store));

    /// <summary>The store of the partition this node owns (or, with <paramref name="role"/> Standby, of its standby here).</summary>
    public T? Find<T>(string region, int partition, PartitionRole role = PartitionRole.Owner) where T : class =>
        _stores.TryGetValue((region, partition, role), out var store) ? store as T : null;

    public int Count(string region) => _stores.Keys.Count(k => k.Region == region && k.Role == PartitionRole.Owner);

    public void RegisterStandby(string region, int partition, IActorRef actor) => _standbys[(region, partition)] = actor;

    public void UnregisterStandby(string region, int partition, IActorRef actor) =>
        _standbys.TryRemove(KeyValuePair.Create((region, partition), actor));

    /// <summary>The standby of the partition on this node, if there is one.</summary>
    public IActorRef? StandbyActor(string region, int partition) => _standbys.GetValueOrDefault((region, partition));

    /// <summary>Standbys running on this node.</summary>
    public int StandbyCount(string region) => _standbys.Keys.Count(k => k.Region == region);
}
