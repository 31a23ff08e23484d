// Runs, on this node, the connectors whose type runs on every node (ConnectorPlacement.EveryNode: Kafka,
// where the nodes are members of one consumer group and the group spreads the partitions). It follows
// what the connector manager publishes (created, paused, resumed, deleted apply cluster-wide) and reports
// this node's streams to the manager every second, for the status.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;

namespace ContextLake.Connectors.Framework;

public sealed class ConnectorNodeRunner : ReceiveActor, IWithTimers
{
    private sealed record Report
    {
        public static Report Instance { get; } = new();
    }

    private readonly Dictionary<string, LocalConnector> _connectors = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ConnectorNodeRunner(ConnectorTypes types, Func<string, ConnectorContext> contextFor, IActorRef manager)
    {
        var node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(ConnectorTopics.Declared, Self));
        Receive<SubscribeAck>(_ => { });

        Receive<DeclaredConnectors>(declared =>
        {
            var mine = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in declared.Connectors)
            {
                ConnectorConfig config;
                try
                {
                    config = ConnectorConfig.Parse(d.Name, d.ConfigJson);
                    if (types.For(config).Placement != ConnectorPlacement.EveryNode) continue;
                }
                catch (ConnectorConfigException)
                {
                    continue;
                }
                mine.Add(d.Name);
                if (_connectors.TryGetValue(d.Name, out var running))
                {
                    if (running.Paused != d.Paused) running.SetPaused(d.Paused);
                    continue;
                }
                var local = new LocalConnector(config, d.Paused);
                _connectors[d.Name] = local;
                local.Start(Self, types, contextFor);
            }
            foreach (var gone in _connectors.Keys.Where(n => !mine.Contains(n)).ToList())
            {
                _ = _connectors[gone].StopAsync();
                _connectors.Remove(gone);
            }
        });

        Receive<ConnectorRunFailed>(f =>
        {
            if (!_connectors.TryGetValue(f.Name, out var c) || !c.Failed(f)) return;
            _log.Warning("connector {0} failed on this node: {1}; restarting in {2}", f.Name, f.Reason, LocalConnector.RestartAfter);
            Timers.StartSingleTimer("restart-" + f.Name, new RestartConnector(f.Name), LocalConnector.RestartAfter);
        });
        Receive<RestartConnector>(r =>
        {
            if (_connectors.TryGetValue(r.Name, out var c)) c.Start(Self, types, contextFor);
        });

        Receive<Report>(_ => manager.Tell(new NodeConnectorStreams(node,
            _connectors.Select(c => new NodeConnectorState(c.Key, c.Value.Error, c.Value.Context?.Streams.ToList() ?? [])).ToList())));
        Timers.StartPeriodicTimer("report", Report.Instance, TimeSpan.FromSeconds(1));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PostStop()
    {
        foreach (var c in _connectors.Values) _ = c.StopAsync();
    }
}
