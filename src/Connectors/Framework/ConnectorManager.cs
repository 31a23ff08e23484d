// The connector manager (a persistent cluster singleton): keeps the declared connectors and their paused
// state across restarts and failovers, runs those whose type runs once in the cluster (CDC, files), and
// publishes every declaration to each node's ConnectorNodeRunner, which runs those whose type runs on every
// node (Kafka). Status joins its own streams with what every node reports, each stream with its node.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Ingest;

namespace ContextLake.Connectors.Framework;

public sealed class ConnectorManager : ReceivePersistentActor, IWithTimers
{
    private sealed record PublishDeclared
    {
        public static PublishDeclared Instance { get; } = new();
    }

    /// <summary>A node's report older than this is left out of the status (the node left or died).</summary>
    private static readonly TimeSpan ReportsExpireAfter = TimeSpan.FromSeconds(5);

    private readonly ConnectorTypes _types;
    private readonly Func<string, ConnectorContext> _contextFor;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, LocalConnector> _connectors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset At, NodeConnectorStreams Report)> _nodeReports = new(StringComparer.Ordinal);
    private readonly IActorRef _mediator = DistributedPubSub.Get(Context.System).Mediator;

    /// <param name="contextFor">What a connector of the given name runs in on this node.</param>
    public ConnectorManager(ConnectorTypes types, Func<string, ConnectorContext> contextFor)
    {
        _types = types;
        _contextFor = contextFor;

        Recover<ConnectorCreated>(c => _connectors[c.Name] = new LocalConnector(ConnectorConfig.Parse(c.Name, c.ConfigJson), paused: false));
        Recover<ConnectorDeleted>(d => _connectors.Remove(d.Name));
        Recover<ConnectorPaused>(p => { if (_connectors.TryGetValue(p.Name, out var r)) r.SetPaused(true); });
        Recover<ConnectorResumed>(p => { if (_connectors.TryGetValue(p.Name, out var r)) r.SetPaused(false); });
        Recover<RecoveryCompleted>(_ =>
        {
            ContextLake.Platform.Hosting.JournaledSingleton.Recovered(Context);
            foreach (var name in _connectors.Keys.ToList()) StartHere(name);
            Publish();
            // Nodes that join later, or missed a publication, learn the declarations within a second or two.
            Timers.StartPeriodicTimer("publish", PublishDeclared.Instance, TimeSpan.FromSeconds(2));
        });

        Command<CreateConnector>(Create);
        Command<DeleteConnector>(d => WithConnector(d.Name, r =>
        {
            var replyTo = Sender;
            Persist(new ConnectorDeleted(d.Name), deleted =>
            {
                var info = Info(d.Name, r);
                _connectors.Remove(d.Name);
                _ = r.StopAsync();
                Publish();
                replyTo.Tell(new ConnectorReply(info, null, null));
            });
        }));
        Command<PauseConnector>(p => WithConnector(p.Name, r =>
        {
            var replyTo = Sender;
            Persist(new ConnectorPaused(p.Name), _ =>
            {
                r.SetPaused(true);
                Publish();
                replyTo.Tell(new ConnectorReply(Info(p.Name, r), null, null));
            });
        }));
        Command<ResumeConnector>(p => WithConnector(p.Name, r =>
        {
            var replyTo = Sender;
            Persist(new ConnectorResumed(p.Name), _ =>
            {
                r.SetPaused(false);
                Publish();
                replyTo.Tell(new ConnectorReply(Info(p.Name, r), null, null));
            });
        }));
        Command<ListConnectors>(_ => Sender.Tell(new ConnectorList(
            _connectors.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => Info(c.Key, c.Value)).ToList())));
        Command<NodeConnectorStreams>(r => _nodeReports[r.Node] = (DateTimeOffset.UtcNow, r));
        Command<PublishDeclared>(_ => Publish());
        Command<ConnectorRunFailed>(f =>
        {
            if (!_connectors.TryGetValue(f.Name, out var r) || !r.Failed(f)) return;
            _log.Warning("connector {0} failed: {1}; restarting in {2}", f.Name, f.Reason, LocalConnector.RestartAfter);
            Timers.StartSingleTimer("restart-" + f.Name, new RestartConnector(f.Name), LocalConnector.RestartAfter);
        });
        Command<RestartConnector>(r => StartHere(r.Name));
    }

    public override string PersistenceId => "connector-manager";

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PostStop()
    {
        // On failover the singleton's successor starts these again on its node, resuming at the committed epoch.
        foreach (var c in _connectors.Values) _ = c.StopAsync();
        base.PostStop();
    }

    private void Create(CreateConnector c)
    {
        if (_connectors.ContainsKey(c.Name))
        {
            Sender.Tell(new ConnectorReply(null, $"a connector named '{c.Name}' already exists", "Conflict"));
            return;
        }
        try
        {
            var config = ConnectorConfig.Parse(c.Name, c.ConfigJson);
            _types.For(config).Validate(config);
        }
        catch (ConnectorConfigException ex)
        {
            Sender.Tell(new ConnectorReply(null, ex.Message, "Invalid"));
            return;
        }
        var replyTo = Sender;
        Persist(new ConnectorCreated(c.Name, c.ConfigJson), e =>
        {
            _connectors[e.Name] = new LocalConnector(ConnectorConfig.Parse(e.Name, e.ConfigJson), paused: false);
            StartHere(e.Name);
            Publish();
            replyTo.Tell(new ConnectorReply(Info(e.Name, _connectors[e.Name]), null, null));
        });
    }

    /// <summary>Starts a connector here when its type runs once in the cluster; the others run on every node's runner.</summary>
    private void StartHere(string name)
    {
        if (!_connectors.TryGetValue(name, out var r) || RunsOnEveryNode(r)) return;
        r.Start(Self, _types, _contextFor);
    }

    private bool RunsOnEveryNode(LocalConnector r)
    {
        try
        {
            return _types.For(r.Config).Placement == ConnectorPlacement.EveryNode;
        }
        catch (ConnectorConfigException)
        {
            return false;
        }
    }

    private void Publish() => _mediator.Tell(new Publish(ConnectorTopics.Declared, new DeclaredConnectors(
        _connectors.Select(c => new DeclaredConnector(c.Key, c.Value.Config.Config.GetRawText(), c.Value.Paused)).ToList())));

    private void WithConnector(string name, Action<LocalConnector> then)
    {
        if (_connectors.TryGetValue(name, out var r)) then(r);
        else Sender.Tell(new ConnectorReply(null, $"there is no connector named '{name}'", "NotFound"));
    }

    private ConnectorInfo Info(string name, LocalConnector r)
    {
        if (!RunsOnEveryNode(r))
            return new ConnectorInfo(name, r.Config.Type, r.Config.Config.GetRawText(), r.State, r.Error, r.Context?.Streams.ToList() ?? []);

        var now = DateTimeOffset.UtcNow;
        var states = _nodeReports.Values.Where(x => now - x.At < ReportsExpireAfter)
            .SelectMany(x => x.Report.Connectors.Where(c => c.Name == name).Select(c => (x.Report.Node, State: c)))
            .ToList();
        var errors = states.Where(s => s.State.Error is not null).Select(s => $"{s.Node}: {s.State.Error}").ToList();
        var error = errors.Count > 0 ? string.Join("; ", errors) : null;
        var state = error is not null ? "FAILED" : r.Paused ? "PAUSED" : "RUNNING";
        var streams = states.SelectMany(s => s.State.Streams).OrderBy(s => s.Stream, StringComparer.Ordinal).ThenBy(s => s.Node, StringComparer.Ordinal).ToList();
        return new ConnectorInfo(name, r.Config.Type, r.Config.Config.GetRawText(), state, error, streams);
    }
}
