// What a connector type provides (a factory) and what every running connector shares: the path to
// committed state, the epoch clock, the dead letters, a pause gate and a status board.
using System.Collections.Concurrent;
using Akka.Actor;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Ingest;

namespace ContextLake.Connectors.Framework;

/// <summary>Where a connector type runs in a cluster.</summary>
public enum ConnectorPlacement
{
    /// <summary>One run in the whole cluster, on the connector manager singleton's node (a CDC slot, a file).</summary>
    OncePerCluster,

    /// <summary>A run on every node; the source itself spreads the work (Kafka: members of one consumer group).</summary>
    EveryNode,
}

/// <summary>A connector type: one class and one registration. <see cref="Type"/> is the config's "type".</summary>
public interface IConnectorFactory
{
    string Type { get; }

    /// <summary>The one place that says where connectors of this type run.</summary>
    ConnectorPlacement Placement { get; }

    /// <summary>Checks the config; throws <see cref="ConnectorConfigException"/> naming the field.</summary>
    void Validate(ConnectorConfig config);

    IConnectorRun Start(ConnectorConfig config, ConnectorContext context);
}

/// <summary>A running connector. <see cref="Completion"/> faults when it fails.</summary>
public interface IConnectorRun
{
    Task Completion { get; }

    Task StopAsync();
}

/// <summary>A stream's position in its connector: read, applied, dead letters, and records held in memory by the source.</summary>
public sealed record StreamStatus(string Stream, long Read, long Applied, long DeadLetters, long Buffered = 0, string? Node = null);

public sealed class ConnectorContext(
    string name, ActorSystem system, StreamRuns runs, EpochClock clock, DeadLetterStore deadLetters, EventAdmission admission)
{
    private readonly ConcurrentDictionary<string, StreamStatus> _streams = new(StringComparer.Ordinal);
    private volatile TaskCompletionSource _open = Opened();

    public string Name { get; } = name;
    public ActorSystem System { get; } = system;
    /// <summary>Where the connector's runs go: admitted one after another per stream, applied several at a time.</summary>
    public StreamRuns Runs { get; } = runs;
    public EpochClock Clock { get; } = clock;
    public DeadLetterStore DeadLetters { get; } = deadLetters;
    /// <summary>What every event of the connector must meet before it is journaled; a refused record is dead-lettered.</summary>
    public EventAdmission Admission { get; } = admission;

    public bool Paused => !_open.Task.IsCompleted;

    /// <summary>This node's streams of the connector, each tagged with this node's address.</summary>
    public IReadOnlyCollection<StreamStatus> Streams =>
        _streams.Values.Select(s => s with { Node = _node }).OrderBy(s => s.Stream, StringComparer.Ordinal).ToList();

    private readonly string _node = ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString();

    /// <summary>Where a stream resumes: just after what the committed epoch covers (see <see cref="EpochKnownAsync"/>).</summary>
    public long ResumeAfter(string stream) => Clock.Latest[stream];

    /// <summary>Sources start only once this node knows the committed epoch, so they resume from it, not from zero.</summary>
    public async Task EpochKnownAsync(CancellationToken cancel)
    {
        while (!Clock.Known) await Task.Delay(20, cancel);
    }

    public void Pause()
    {
        if (_open.Task.IsCompleted) _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Resume() => _open.TrySetResult();

    /// <summary>Sources wait here before each batch: a paused connector stops pulling, so its source backs off.</summary>
    public Task WhenRunning(CancellationToken cancel) => _open.Task.WaitAsync(cancel);

    public void Report(string stream, long read, long applied, long deadLetters)
    {
        if (GivenUp(stream)) return;
        _streams.AddOrUpdate(stream,
            _ => new StreamStatus(stream, read, applied, deadLetters),
            (_, old) => new StreamStatus(stream, Math.Max(old.Read, read), Math.Max(old.Applied, applied), old.DeadLetters + deadLetters, old.Buffered));
    }

    private readonly Dictionary<string, int> _holders = new(StringComparer.Ordinal);
    // Streams a source of this node gave up and no source holds again: a write of theirs still finishing (or a late
    // buffer report) must not list them here again, beside their new owner.
    private readonly HashSet<string> _givenUp = new(StringComparer.Ordinal);

    private bool GivenUp(string stream)
    {
        lock (_holders) return _givenUp.Contains(stream);
    }

    /// <summary>A source of this node took the stream (a Kafka partition assigned to one of its consumers).</summary>
    public void Hold(string stream)
    {
        lock (_holders)
        {
            _holders[stream] = _holders.GetValueOrDefault(stream) + 1;
            _givenUp.Remove(stream);
        }
    }

    /// <summary>A source gave the stream up (partition revoked). Once no source of this node holds it, its status
    /// comes from its new owner, maybe on another node, and this node stops listing it.</summary>
    public void Release(string stream)
    {
        lock (_holders)
        {
            var left = _holders.GetValueOrDefault(stream) - 1;
            if (left > 0)
            {
                _holders[stream] = left;
                return;
            }
            _holders.Remove(stream);
            _givenUp.Add(stream);
            _streams.TryRemove(stream, out _);
        }
    }

    /// <summary>How many records the source holds in memory for the stream (its backpressure bound shows here).</summary>
    public void ReportBuffered(string stream, long buffered)
    {
        if (GivenUp(stream)) return;
        _streams.AddOrUpdate(stream,
            _ => new StreamStatus(stream, 0, 0, 0, buffered),
            (_, old) => old with { Buffered = buffered });
    }

    private static TaskCompletionSource Opened()
    {
        var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        t.SetResult();
        return t;
    }
}

/// <summary>The connector types this node knows, by name.</summary>
public sealed class ConnectorTypes(IEnumerable<IConnectorFactory> factories)
{
    private readonly Dictionary<string, IConnectorFactory> _byType = factories.ToDictionary(f => f.Type, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _byType.Keys.Order(StringComparer.Ordinal).ToList();

    public IConnectorFactory For(ConnectorConfig config) =>
        _byType.TryGetValue(config.Type, out var f)
            ? f
            : throw new ConnectorConfigException(config.Name, "type", $"'{config.Type}' is not a connector type (types: {string.Join(", ", Names)})");
}
