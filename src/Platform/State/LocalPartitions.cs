// The partitions this node hosts right now, by region and number, so the gateway reads their published
// versions directly instead of asking the actor (a partition registers its store when it starts and
// removes it when it stops or moves to another node).
using System.Collections.Concurrent;

namespace ContextLake.Platform.State;

public sealed class LocalPartitions
{
    private readonly ConcurrentDictionary<(string Region, int Partition), object> _stores = new();

    public void Register(string region, int partition, object store) => _stores[(region, partition)] = store;

    public void Unregister(string region, int partition, object store) =>
        _stores.TryRemove(KeyValuePair.Create((region, partition), store));

    public T? Find<T>(string region, int partition) where T : class =>
        _stores.TryGetValue((region, partition), out var store) ? store as T : null;

    public int Count(string region) => _stores.Keys.Count(k => k.Region == region);
}
