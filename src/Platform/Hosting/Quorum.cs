// A node writes its journals only while it sees a majority of the cluster's members. The journal's unique
// (persistence id, sequence number) index stops a stale owner's next write, but not the one after: a node paused
// (SIGSTOP, a stalled host) and resumed still thinks it owns its partitions and singletons until the split-brain
// resolver downs it, and a partition whose stale write failed restarts, recovers the new owner's rows and writes
// after them, two owners in turn. Its failure detector knows at once, though: the heartbeats it last heard are as
// old as the pause. So every writer (partitions, write streams, the epoch coordinator) asks before each write, and
// holds its work while the answer is no, as a minority side that keep-majority is about to down must.
using Akka.Actor;
using Akka.Cluster;

namespace ContextLake.Platform.Hosting;

public sealed class Quorum
{
    private readonly Cluster? _cluster;

    private Quorum(Cluster? cluster) => _cluster = cluster;

    /// <summary>The quorum of <paramref name="system"/>'s node (always held in an actor system that is not a cluster node).</summary>
    public static Quorum Of(ActorSystem system) =>
        new(((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider ? Cluster.Get(system) : null);

    /// <summary>
    /// Whether this node, with the members its failure detector hears now, is more than half of the members that are up (a
    /// cluster of one always is).
    /// </summary>
    public bool Held => _cluster is null || HeldBy(_cluster);

    private static bool HeldBy(Cluster cluster)
    {
        var members = cluster.State.Members;
        var up = 0;
        var heard = 1;
        foreach (var m in members)
        {
            if (m.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting)) continue;
            up++;
            if (m.Address != cluster.SelfAddress && cluster.FailureDetector.IsAvailable(m.Address)) heard++;
        }
        return up <= 1 || 2 * heard > up;
    }
}
