// One connector running on this node: its context (pause gate, status board), its current run and the
// bookkeeping to restart it after a failure. The connector manager uses it for connectors that run once in
// the cluster; each node's ConnectorNodeRunner for connectors that run on every node.
using Akka.Actor;

namespace ContextLake.Connectors.Framework;

/// <summary>Told to the owning actor when a run of <paramref name="Name"/> ends by failing (local only).</summary>
internal sealed record ConnectorRunFailed(string Name, long Generation, string Reason);

/// <summary>Timer message of the owning actor: start <paramref name="Name"/> again (local only).</summary>
internal sealed record RestartConnector(string Name);

internal sealed class LocalConnector(ConnectorConfig config, bool paused)
{
    public static readonly TimeSpan RestartAfter = TimeSpan.FromSeconds(5);

    public ConnectorConfig Config { get; } = config;
    public bool Paused { get; private set; } = paused;
    public ConnectorContext? Context { get; private set; }
    public IConnectorRun? Run { get; private set; }
    public string? Error { get; private set; }
    public long Generation { get; private set; }

    /// <summary>Starts a run unless one is running; a failure is told to <paramref name="owner"/> as <see cref="ConnectorRunFailed"/>.</summary>
    public void Start(IActorRef owner, ConnectorTypes types, Func<string, ConnectorContext> contextFor)
    {
        if (Run is not null) return;
        var name = Config.Name;
        var generation = ++Generation;
        try
        {
            var context = Context ?? contextFor(name);
            if (Paused) context.Pause();
            Context = context;
            Run = types.For(Config).Start(Config, context);
            Error = null;
            Run.Completion.ContinueWith(t =>
            {
                var reason = t.Exception?.GetBaseException().Message ?? (t.IsCanceled ? "cancelled" : "the connector stopped");
                owner.Tell(new ConnectorRunFailed(name, generation, reason));
            }, TaskContinuationOptions.NotOnRanToCompletion);
        }
        catch (Exception ex) when (ex is ConnectorConfigException or InvalidOperationException or ArgumentException)
        {
            owner.Tell(new ConnectorRunFailed(name, generation, ex.Message));
        }
    }

    /// <summary>True when the failure belongs to the current run (a stale one is ignored).</summary>
    public bool Failed(ConnectorRunFailed failure)
    {
        if (failure.Generation != Generation) return false;
        Error = failure.Reason;
        Run = null;
        return true;
    }

    public void SetPaused(bool paused)
    {
        Paused = paused;
        if (paused) Context?.Pause();
        else Context?.Resume();
    }

    public Task StopAsync()
    {
        var run = Run;
        Run = null;
        // A stopped run's completion is not a failure to restart: move the generation on.
        Generation++;
        return run?.StopAsync() ?? Task.CompletedTask;
    }

    public string State => Error is not null ? "FAILED" : Paused ? "PAUSED" : "RUNNING";
}
