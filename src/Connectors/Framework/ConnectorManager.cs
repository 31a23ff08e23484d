// The connector manager (a persistent cluster singleton): keeps the declared connectors and their
// paused state across restarts, runs each one, restarts a failed one after a pause, and answers status.
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Ingest;

namespace ContextLake.Connectors.Framework;

public sealed class ConnectorManager : ReceivePersistentActor, IWithTimers
{
    private sealed record Failed(string Name, long Generation, string Reason);
    private sealed record Restart(string Name);

    private sealed class Running(ConnectorConfig config, bool paused)
    {
        public ConnectorConfig Config { get; } = config;
        public bool Paused { get; set; } = paused;
        public ConnectorContext? Context { get; set; }
        public IConnectorRun? Run { get; set; }
        public string? Error { get; set; }
        public long Generation { get; set; }
    }

    private readonly ConnectorTypes _types;
    private readonly Func<string, ConnectorContext> _contextFor;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Running> _connectors = new(StringComparer.Ordinal);

    public ConnectorManager(ConnectorTypes types, ActorSystem system, StreamApplier applier, EpochClock clock, DeadLetterStore deadLetters)
    {
        _types = types;
        _contextFor = name => new ConnectorContext(name, system, applier, clock, deadLetters);

        Recover<ConnectorCreated>(c => _connectors[c.Name] = new Running(Parse(c.Name, c.ConfigJson), paused: false));
        Recover<ConnectorDeleted>(d => _connectors.Remove(d.Name));
        Recover<ConnectorPaused>(p => { if (_connectors.TryGetValue(p.Name, out var r)) r.Paused = true; });
        Recover<ConnectorResumed>(p => { if (_connectors.TryGetValue(p.Name, out var r)) r.Paused = false; });
        Recover<RecoveryCompleted>(_ =>
        {
            foreach (var name in _connectors.Keys.ToList()) StartRun(name);
        });

        Command<CreateConnector>(Create);
        Command<DeleteConnector>(d => WithConnector(d.Name, r =>
        {
            var replyTo = Sender;
            Persist(new ConnectorDeleted(d.Name), _ =>
            {
                var info = Info(d.Name, r);
                _connectors.Remove(d.Name);
                r.Run?.StopAsync();
                replyTo.Tell(new ConnectorReply(info, null, null));
            });
        }));
        Command<PauseConnector>(p => WithConnector(p.Name, r =>
        {
            var replyTo = Sender;
            Persist(new ConnectorPaused(p.Name), _ =>
            {
                r.Paused = true;
                r.Context?.Pause();
                replyTo.Tell(new ConnectorReply(Info(p.Name, r), null, null));
            });
        }));
        Command<ResumeConnector>(p => WithConnector(p.Name, r =>
        {
            var replyTo = Sender;
            Persist(new ConnectorResumed(p.Name), _ =>
            {
                r.Paused = false;
                r.Context?.Resume();
                replyTo.Tell(new ConnectorReply(Info(p.Name, r), null, null));
            });
        }));
        Command<ListConnectors>(_ => Sender.Tell(new ConnectorList(
            _connectors.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => Info(c.Key, c.Value)).ToList())));
        Command<Failed>(f =>
        {
            if (!_connectors.TryGetValue(f.Name, out var r) || r.Generation != f.Generation) return;
            r.Error = f.Reason;
            r.Run = null;
            _log.Warning("connector {0} failed: {1}; restarting in 5 s", f.Name, f.Reason);
            Timers.StartSingleTimer("restart-" + f.Name, new Restart(f.Name), TimeSpan.FromSeconds(5));
        });
        Command<Restart>(r => StartRun(r.Name));
    }

    public override string PersistenceId => "connector-manager";

    public ITimerScheduler Timers { get; set; } = null!;

    private void Create(CreateConnector c)
    {
        if (_connectors.ContainsKey(c.Name))
        {
            Sender.Tell(new ConnectorReply(null, $"a connector named '{c.Name}' already exists", "Conflict"));
            return;
        }
        try
        {
            var config = Parse(c.Name, c.ConfigJson);
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
            _connectors[e.Name] = new Running(Parse(e.Name, e.ConfigJson), paused: false);
            StartRun(e.Name);
            replyTo.Tell(new ConnectorReply(Info(e.Name, _connectors[e.Name]), null, null));
        });
    }

    private void StartRun(string name)
    {
        if (!_connectors.TryGetValue(name, out var r) || r.Run is not null) return;
        var self = Self;
        var generation = ++r.Generation;
        try
        {
            var context = r.Context ?? _contextFor(name);
            if (r.Paused) context.Pause();
            r.Context = context;
            r.Run = _types.For(r.Config).Start(r.Config, context);
            r.Error = null;
            r.Run.Completion.ContinueWith(t =>
            {
                var reason = t.Exception?.GetBaseException().Message ?? (t.IsCanceled ? "cancelled" : "the connector stopped");
                self.Tell(new Failed(name, generation, reason));
            }, TaskContinuationOptions.NotOnRanToCompletion);
        }
        catch (Exception ex) when (ex is ConnectorConfigException or InvalidOperationException or ArgumentException)
        {
            self.Tell(new Failed(name, generation, ex.Message));
        }
    }

    private void WithConnector(string name, Action<Running> then)
    {
        if (_connectors.TryGetValue(name, out var r)) then(r);
        else Sender.Tell(new ConnectorReply(null, $"there is no connector named '{name}'", "NotFound"));
    }

    private static ConnectorInfo Info(string name, Running r) => new(
        name, r.Config.Type, r.Config.Config.GetRawText(),
        r.Error is not null ? "FAILED" : r.Paused ? "PAUSED" : "RUNNING",
        r.Error,
        r.Context?.Streams.ToList() ?? []);

    private static ConnectorConfig Parse(string name, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ConnectorConfigException(name, "", "must be a JSON object");
            return new ConnectorConfig(name, doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new ConnectorConfigException(name, "", $"is not valid JSON: {ex.Message}");
        }
    }
}
