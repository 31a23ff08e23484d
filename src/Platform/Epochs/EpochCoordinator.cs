// The epoch coordinator (a persistent cluster singleton): gathers per-stream watermarks and publishes
// (n, V) every few milliseconds when something moved. Each epoch is journaled before it is published,
// so numbers and vectors never go backward, across restarts and failovers too.
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;

namespace ContextLake.Platform.Epochs;

public sealed class EpochCoordinator : ReceivePersistentActor, IWithTimers
{
    private sealed record Tick
    {
        public static Tick Instance { get; } = new();
    }

    private readonly TimeSpan _interval;
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, long> _watermarks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _read = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _laggingSince = new(StringComparer.Ordinal);
    private Epoch _latest = Epoch.Zero;
    private bool _persisting;
    private IActorRef? _mediator;

    public EpochCoordinator(TimeSpan interval, int snapshotEvery)
    {
        _interval = interval;
        _snapshotEvery = snapshotEvery;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is EpochRecorded e) Restore(e);
        });
        Recover<EpochRecorded>(Restore);
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("epoch coordinator resumes at epoch {0}", _latest.N);
            Publish();
            Timers.StartPeriodicTimer("tick", Tick.Instance, _interval);
        });

        Command<ReportWatermark>(r =>
        {
            if (!_watermarks.TryGetValue(r.Stream, out var w) || r.Watermark > w) _watermarks[r.Stream] = r.Watermark;
            if (!_read.TryGetValue(r.Stream, out var read) || r.Read > read) _read[r.Stream] = r.Read;
            TrackLag();
        });
        Command<Tick>(_ => TryAdvance());
        Command<GetLatestEpoch>(_ => Sender.Tell(_latest));
        Command<GetStreamPositions>(_ => Sender.Tell(new StreamPositions(_latest, new Dictionary<string, long>(_read), new Dictionary<string, DateTimeOffset>(_laggingSince))));
        Command<SaveSnapshotSuccess>(ok => DeleteMessages(ok.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "epoch snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "deleting old epoch records failed"));
    }

    public override string PersistenceId => "epoch-coordinator";

    public ITimerScheduler Timers { get; set; } = null!;

    private void TryAdvance()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (stream, read) in _read)
        {
            Telemetry.Metrics.StreamLag.WithLabels(stream).Set(Math.Max(0, read - _latest[stream]));
            Telemetry.Metrics.StreamLagSeconds.WithLabels(stream).Set(_laggingSince.TryGetValue(stream, out var since) ? (now - since).TotalSeconds : 0);
        }
        if (_persisting) return;
        var moved = _watermarks.Any(kv => kv.Value > _latest[kv.Key]);
        if (!moved) return;

        var vector = new Dictionary<string, long>(_latest.Vector, StringComparer.Ordinal);
        foreach (var (stream, w) in _watermarks)
            if (w > _latest[stream]) vector[stream] = w;
        var next = new EpochRecorded(_latest.N + 1, vector, DateTimeOffset.UtcNow);
        _persisting = true;
        var started = Stopwatch.GetTimestamp();
        Persist(next, e =>
        {
            Telemetry.Metrics.JournalWriteSeconds.WithLabels("epoch").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _persisting = false;
            Restore(e);
            Publish();
            TrackLag();
            if (e.N % _snapshotEvery == 0) SaveSnapshot(e);
        });
    }

    /// <summary>Remembers since when each stream has had uncommitted offsets: what "epochs not advancing" is judged on.</summary>
    private void TrackLag()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (stream, read) in _read)
        {
            if (read > _latest[stream]) _laggingSince.TryAdd(stream, now);
            else _laggingSince.Remove(stream);
        }
    }

    private void Restore(EpochRecorded e)
    {
        // Never backward: a stale record (or clock) cannot lower a component.
        if (e.N <= _latest.N) return;
        _latest = new Epoch(e.N, e.Vector, e.CommittedAt > _latest.CommittedAt ? e.CommittedAt : _latest.CommittedAt);
    }

    private void Publish()
    {
        _mediator ??= DistributedPubSub.Get(Context.System).Mediator;
        _mediator.Tell(new Publish(EpochTopics.Epochs, _latest));
    }
}
