// The epoch coordinator (a persistent cluster singleton): gathers per-stream watermarks and publishes
// (n, V) as soon as something moved, at most one epoch per Epochs:PublishInterval (timed precisely, not on
// the scheduler's 10 ms ticks), and while one epoch is being journaled the next one gathers what moves
// meanwhile. Each epoch is journaled before it is published, so numbers and vectors never go backward,
// across restarts and failovers too. The records stay in the journal for Epochs:Retention (EpochHistory
// reads them for epochs older than the in-memory history); after each snapshot the ones older than that go.
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Hosting;

namespace ContextLake.Platform.Epochs;

public sealed class EpochCoordinator : ReceivePersistentActor, IWithTimers
{
    private sealed record Tick
    {
        public static Tick Instance { get; } = new();
    }

    private sealed record Due
    {
        public static Due Instance { get; } = new();
    }

    /// <summary>The newest record older than the retention (0: none), found after a snapshot.</summary>
    private sealed record ExpiredThrough(long SequenceNr);

    /// <summary>How often stream lag is recomputed for the metrics when nothing else happens.</summary>
    private static readonly TimeSpan LagEvery = TimeSpan.FromMilliseconds(100);

    private readonly TimeSpan _interval;
    private readonly int _snapshotEvery;
    private readonly TimeSpan _retention;
    private bool _sweeping;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, long> _watermarks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _read = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _laggingSince = new(StringComparer.Ordinal);
    private Epoch _latest = Epoch.Zero;
    private bool _persisting;
    private bool _dueScheduled;
    private readonly Quorum _quorum = Quorum.Of(Context.System);
    private long _lastStarted;
    private IActorRef? _mediator;

    public EpochCoordinator(TimeSpan interval, int snapshotEvery, TimeSpan retention)
    {
        _interval = interval;
        _snapshotEvery = snapshotEvery;
        _retention = retention;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is EpochRecorded e) Restore(e);
        });
        Recover<EpochRecorded>(Restore);
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("epoch coordinator resumes at epoch {0}", _latest.N);
            ContextLake.Platform.Hosting.JournaledSingleton.Recovered(Context);
            Publish();
            Timers.StartPeriodicTimer("tick", Tick.Instance, LagEvery);
        });

        Command<ReportWatermark>(r =>
        {
            if (!_watermarks.TryGetValue(r.Stream, out var w) || r.Watermark > w) _watermarks[r.Stream] = r.Watermark;
            if (!_read.TryGetValue(r.Stream, out var read) || r.Read > read) _read[r.Stream] = r.Read;
            TrackLag();
            TryAdvance();
        });
        Command<Tick>(_ =>
        {
            ReportLag();
            TryAdvance();
        });
        Command<Due>(_ =>
        {
            _dueScheduled = false;
            TryAdvance();
        });
        Command<GetLatestEpoch>(_ => Sender.Tell(_latest));
        Command<GetStreamPositions>(_ => Sender.Tell(new StreamPositions(_latest, new Dictionary<string, long>(_read), new Dictionary<string, DateTimeOffset>(_laggingSince))));
        Command<SaveSnapshotSuccess>(ok => SweepExpired(ok.Metadata.SequenceNr));
        Command<ExpiredThrough>(e =>
        {
            _sweeping = false;
            if (e.SequenceNr > 0) DeleteMessages(e.SequenceNr);
        });
        Command<Status.Failure>(f =>
        {
            _sweeping = false;
            _log.Warning(f.Cause, "finding epoch records older than Epochs:Retention failed; tried again after the next snapshot");
        });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "epoch snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "deleting old epoch records failed"));
    }

    public override string PersistenceId => EpochHistory.PersistenceId;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// Finds the newest epoch record (at or before the snapshot's) committed longer than Epochs:Retention ago: the records are
    /// read oldest first and the scan stops at the first one still kept, so a sweep reads what expired since the last one.
    /// </summary>
    private void SweepExpired(long snapshotSequenceNr)
    {
        if (_sweeping) return;
        _sweeping = true;
        var cutoff = DateTimeOffset.UtcNow - _retention;
        var system = Context.System;
        EpochHistory.LastCommittedBeforeAsync(system, cutoff, snapshotSequenceNr, CancellationToken.None)
            .ContinueWith(t => t.IsCompletedSuccessfully ? new ExpiredThrough(t.Result) : (object)new Status.Failure(t.Exception!.GetBaseException()),
                TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void ReportLag()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (stream, read) in _read)
        {
            Telemetry.Metrics.StreamLag.WithLabels(stream).Set(Math.Max(0, read - _latest[stream]));
            Telemetry.Metrics.StreamLagSeconds.WithLabels(stream).Set(_laggingSince.TryGetValue(stream, out var since) ? (now - since).TotalSeconds : 0);
        }
    }

    /// <summary>
    /// Journals the next epoch when a watermark moved, no epoch is being journaled, and the last one started at least
    /// the publish interval ago; otherwise a wake-up is due when the interval has passed (a .NET timer: Akka's scheduler
    /// would round it up to its 10 ms tick).
    /// </summary>
    private void TryAdvance()
    {
        if (_persisting || _dueScheduled) return;
        var moved = false;
        foreach (var (stream, w) in _watermarks)
            if (w > _latest[stream])
            {
                moved = true;
                break;
            }
        if (!moved) return;
        var wait = _interval - Stopwatch.GetElapsedTime(_lastStarted);
        if (_lastStarted != 0 && wait > TimeSpan.Zero)
        {
            _dueScheduled = true;
            var self = Self;
            _ = Task.Delay(wait).ContinueWith(_ => self.Tell(Due.Instance), TaskScheduler.Default);
            return;
        }
        if (!_quorum.Held)
        {
            // A coordinator on a node that does not hear a majority publishes nothing: another may run already (see Quorum).
            _dueScheduled = true;
            var retry = Self;
            _ = Task.Delay(TimeSpan.FromMilliseconds(200)).ContinueWith(_ => retry.Tell(Due.Instance), TaskScheduler.Default);
            return;
        }
        _lastStarted = Stopwatch.GetTimestamp();

        var vector = new Dictionary<string, long>(_latest.Vector, StringComparer.Ordinal);
        foreach (var (stream, w) in _watermarks)
            if (w > _latest[stream]) vector[stream] = w;
        var next = new EpochRecorded(_latest.N + 1, vector, DateTimeOffset.UtcNow);
        _persisting = true;
        var started = _lastStarted;
        Persist(next, e =>
        {
            Telemetry.Metrics.JournalWriteSeconds.WithLabels("epoch").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _persisting = false;
            Restore(e);
            Publish();
            TrackLag();
            if (e.N % _snapshotEvery == 0) SaveSnapshot(e);
            TryAdvance();
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
