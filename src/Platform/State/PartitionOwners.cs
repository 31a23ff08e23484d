// Where each partition runs, as this node last heard it: the node whose partition answered the keeper's greeting.
// The keeper greets every partition every couple of seconds, so after a failover this names the dead node until the
// partition answers from its new one; standbys are placed by it, and a takeover is told apart from a first start by it.
using System.Collections.Concurrent;
using Akka.Actor;

namespace ContextLake.Platform.State;

public sealed class PartitionOwners
{
    private readonly ConcurrentDictionary<(string Region, int Partition), Address> _owners = new();

    public void Answered(string region, int partition, Address node) => _owners[(region, partition)] = node;

    /// <summary>The node the partition last answered from, or null when it has not answered this node yet.</summary>
    public Address? Of(string region, int partition) => _owners.GetValueOrDefault((region, partition));

    /// <summary>Every partition known to run on <paramref name="node"/>.</summary>
    public IReadOnlyList<(string Region, int Partition)> On(Address node) =>
        _owners.Where(o => o.Value == node).Select(o => o.Key).ToList();
}
