// A persistent cluster singleton outlives a journal outage. Akka.Persistence stops a persistent actor whose
// journal write or recovery fails (a write that outlasts the journal's circuit-breaker call timeout counts), and a
// cluster singleton that stopped by itself is never started again: before this, one slow write of the epoch
// coordinator (a node paused, a journal locked for 10 s) stopped every epoch of the cluster for good. Every
// persistent singleton therefore runs under a backoff supervisor that starts it again, 0.2 s to 10 s later; it
// recovers from the journal like any restart. Messages that arrive while it is down are dropped, as in a failover:
// their senders' asks time out and they ask again.
using Akka.Actor;
using Akka.Pattern;

namespace ContextLake.Platform.Hosting;

public static class JournaledSingleton
{
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Call when the singleton's recovery completes: a takeover from a lost previous oldest is measured (Telemetry/Failovers),
    /// named by the singleton manager's name (the actor's path is /user/{manager}/{singleton}/{child}).
    /// </summary>
    public static void Recovered(IActorContext context) =>
        Telemetry.Failovers.Get(context.System).SingletonReady(context.Self.Path.Parent.Parent.Name);

    /// <summary>The props of a singleton whose <paramref name="actor"/> (a persistent actor) is started again whenever it stops.</summary>
    public static Props Props(Props actor, string name) =>
        BackoffSupervisor.Props(Backoff.OnStop(actor, name, MinBackoff, MaxBackoff, 0.2, -1));
}
