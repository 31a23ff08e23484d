// The shape every partition shares: a sharded persistent actor that owns the state of all the keys of
// its key group. It journals its work group-committed, one write in flight at a time: whatever arrives
// while a row is being written goes into the next row, so a partition costs one row per run (or fewer)
// whatever the number of keys. It turns pending changes into versions as epochs arrive (each epoch in
// order, so a read at any epoch the node holds is exact), and parks reads of an epoch it has not reached
// yet. A snapshot holds committed values only, as of the journal row before the oldest whose changes are
// not all committed (OpenRows), with the committed epoch's vector: a restart replays the rows after it and
// takes from them only the changes that vector does not cover. A partition snapshots between writes once
// the rows since its last snapshot hold enough changes: at least State:SnapshotEvery, and at least as many
// as it has keys, so a snapshot (which costs its keys) is paid for by the changes it saves replaying;
// and early, once it has been quiet for State:SnapshotWhenIdle, so that after a burst the tail is empty.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Platform.State;

public abstract class PartitionActor : ReceivePersistentActor, IWithTimers
{
    private sealed record Flush
    {
        public static Flush Instance { get; } = new();
    }

    private sealed record EpochTick
    {
        public static EpochTick Instance { get; } = new();
    }

    private sealed record Maintain
    {
        public static Maintain Instance { get; } = new();
    }

    private static readonly TimeSpan ParkedReadsExpire = TimeSpan.FromMinutes(1);

    private readonly List<(object Message, IActorRef Sender, long N, DateTime Since)> _parked = new();
    private bool _writing;
    private DateTime _lastWrite = DateTime.UtcNow;
    private bool _flushScheduled;
    private long _changesSinceSnapshot;
    private int _tickPending;
    private IDisposable? _epochs;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _recoveredFromSnapshot;
    private long _rowsReplayed;
    private long _snapshotRow;

    protected PartitionActor(string region, string partitionId, EpochClock clock, StateOptions options)
    {
        RegionName = region;
        PartitionId = partitionId;
        Partition = int.TryParse(partitionId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : -1;
        Clock = clock;
        Options = options;
        PersistenceId = PartitionJournal.PersistenceIdOf(region, partitionId);

        Recover<SnapshotOffer>(offer =>
        {
            RestoreSnapshot(offer.Snapshot);
            _recoveredFromSnapshot = _snapshotRow = offer.Metadata.SequenceNr;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            Recovered();
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(_started);
            Telemetry.Failovers.Get(Context.System).PartitionReady(RegionName, Partition, KeyCount, took);
            if (took > TimeSpan.FromSeconds(1))
                Log.Info("{0} recovered in {1:0.0} s: {2} keys, snapshot at row {3}, {4} rows replayed", PersistenceId, took.TotalSeconds, KeyCount,
                    _recoveredFromSnapshot, _rowsReplayed);
            CatchUp();
            Timers.StartPeriodicTimer("maintain", Maintain.Instance, TimeSpan.FromSeconds(1));
        });

        Command<Flush>(_ =>
        {
            _flushScheduled = false;
            Write();
        });
        Command<EpochTick>(_ =>
        {
            Interlocked.Exchange(ref _tickPending, 0);
            CatchUp();
        });
        Command<Maintain>(_ =>
        {
            CatchUp();
            SnapshotIfIdle();
            Compact(Clock.Horizon.N);
            _parked.RemoveAll(p => DateTime.UtcNow - p.Since > ParkedReadsExpire);
        });
        Command<StartPartition>(_ => Sender.Tell(new PartitionStarted(RegionName, PartitionId, KeyCount, CommittedThrough)));
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => Log.Warning(f.Cause, "snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => Log.Warning(f.Cause, "deleting old snapshots of {0} failed", PersistenceId));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    protected string RegionName { get; }

    protected string PartitionId { get; }

    /// <summary>The key group's number (entity and view regions); -1 for partitions addressed otherwise (a vector view's).</summary>
    protected int Partition { get; }

    protected EpochClock Clock { get; }

    protected StateOptions Options { get; }

    /// <summary>The newest epoch whose covered changes are all versions here.</summary>
    protected abstract long CommittedThrough { get; }

    protected abstract int KeyCount { get; }

    /// <summary>Registers a journal row type: <paramref name="apply"/> runs during recovery exactly as after a live write.</summary>
    protected void Row<TRow>(Action<TRow> apply, Func<TRow, int> changes) => Recover<TRow>(row =>
    {
        apply(row);
        _rowsReplayed++;
        _changesSinceSnapshot += Math.Max(1, changes(row));
    });

    /// <summary>The next row from the work buffered since the last write (and how many changes it holds), or null when there is none.</summary>
    protected abstract (object Row, int Changes)? TakeRow();

    /// <summary>A row is durable: apply it (the same code recovery runs), then tell whoever waits for it.</summary>
    protected abstract void Journaled(object row);

    /// <summary>
    /// The journal row a snapshot taken now would be as of (every change in it and before it committed), or -1 when none
    /// can be taken now; <see cref="CaptureSnapshot"/> captures the state as of that row.
    /// </summary>
    protected abstract long SnapshotRow { get; }

    protected abstract object CaptureSnapshot();

    protected abstract void RestoreSnapshot(object snapshot);

    /// <summary>Turns the pending changes the epochs cover into versions.</summary>
    protected abstract void Commit(IReadOnlyList<Epoch> epochs, long horizonN);

    /// <summary>Folds versions older than the history horizon.</summary>
    protected abstract void Compact(long horizonN);

    /// <summary>Whether pending changes may be turned into versions yet (a view partition waits for its node's catalog).</summary>
    protected virtual bool CanCommit => true;

    /// <summary>Called once recovery is complete (before the first commit).</summary>
    protected virtual void Recovered()
    {
    }

    /// <summary>Called after epochs were committed.</summary>
    protected virtual void Committed(Epoch latest)
    {
    }

    protected override void PreStart()
    {
        base.PreStart();
        var self = Self;
        _epochs = Clock.Subscribe(() =>
        {
            if (Interlocked.Exchange(ref _tickPending, 1) == 0) self.Tell(EpochTick.Instance);
        });
    }

    protected override void PostStop()
    {
        _epochs?.Dispose();
        base.PostStop();
    }

    /// <summary>Work was buffered: it goes into the next row, after everything already in the mailbox.</summary>
    protected void WorkArrived()
    {
        if (_writing || _flushScheduled) return;
        _flushScheduled = true;
        Self.Tell(Flush.Instance);
    }

    private void Write()
    {
        if (_writing) return;
        if (TakeRow() is not { } next) return;
        var (row, changes) = next;
        _writing = true;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAsync(row, written =>
        {
            _writing = false;
            Telemetry.Metrics.JournalWriteSeconds.WithLabels(RegionName).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (changes > 0) Telemetry.Metrics.JournalBatchEvents.WithLabels(RegionName).Observe(changes);
            Journaled(written);
            _lastWrite = DateTime.UtcNow;
            _changesSinceSnapshot += Math.Max(1, changes);
            if (_changesSinceSnapshot >= Math.Max(Options.SnapshotEvery, KeyCount)) Snapshot();
            Write();
        });
    }

    /// <summary>
    /// Between writes only: the committed state as of <see cref="SnapshotRow"/>, saved under that row's sequence number, so a
    /// recovery replays the rows after it. Nothing is taken when that row is not past the last snapshot's.
    /// </summary>
    private void Snapshot()
    {
        var row = SnapshotRow;
        if (row <= _snapshotRow) return;
        _changesSinceSnapshot = 0;
        _snapshotRow = row;
        SnapshotStore.Tell(new SaveSnapshot(new SnapshotMetadata(PersistenceId, row, DateTime.UtcNow), CaptureSnapshot()), Self);
    }

    /// <summary>
    /// Quiet for State:SnapshotWhenIdle with a tail worth an eighth of a snapshot's cost (its keys): snapshot now, while
    /// nothing waits for this partition, rather than leave the tail to the next recovery.
    /// </summary>
    private void SnapshotIfIdle()
    {
        if (_writing || _flushScheduled || Options.SnapshotWhenIdle <= TimeSpan.Zero || _changesSinceSnapshot == 0) return;
        if (DateTime.UtcNow - _lastWrite < Options.SnapshotWhenIdle || _changesSinceSnapshot < Math.Max(1, KeyCount / 8)) return;
        Snapshot();
    }

    /// <summary>
    /// Whether a read at epoch <paramref name="n"/> can be answered now; when this node has not reached that epoch
    /// yet, the message is parked and handled again once it has.
    /// </summary>
    protected bool ReadyFor(long n, object message)
    {
        if (n > CommittedThrough) CatchUp();
        if (n <= CommittedThrough) return true;
        _parked.Add((message, Sender, n, DateTime.UtcNow));
        return false;
    }

    /// <summary>
    /// Turns pending changes that the epoch already committed here covers into versions of that epoch at once: changes
    /// that arrive covered (a backfill's, of events committed long ago) would otherwise wait for the next epoch.
    /// </summary>
    protected void CommitCovered()
    {
        if (!Clock.Known || !IsRecoveryFinished || !CanCommit || CommittedThrough == 0) return;
        if (Clock.Find(CommittedThrough) is { } committed) Commit([committed], Clock.Horizon.N);
    }

    private void CatchUp()
    {
        if (!Clock.Known || !IsRecoveryFinished || !CanCommit) return;
        var epochs = Clock.After(CommittedThrough);
        if (epochs.Count == 0) return;
        Commit(epochs, Clock.Horizon.N);
        Committed(epochs[^1]);
        if (_parked.Count == 0) return;
        var due = _parked.Where(p => p.N <= CommittedThrough).ToList();
        _parked.RemoveAll(p => p.N <= CommittedThrough);
        foreach (var (message, sender, _, _) in due) Self.Tell(message, sender);
    }

    /// <summary>
    /// Answers, in one pass, the redeliveries in <paramref name="waiting"/> whose row is now journaled, and keeps the rest in
    /// order: a retry storm can leave thousands of them waiting for the rows they repeat.
    /// </summary>
    protected static void AnswerJournaled<T>(List<T> waiting, Func<T, bool> journaled, Action<T> answer)
    {
        var kept = 0;
        for (var i = 0; i < waiting.Count; i++)
        {
            if (journaled(waiting[i])) answer(waiting[i]);
            else waiting[kept++] = waiting[i];
        }
        waiting.RemoveRange(kept, waiting.Count - kept);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "{0}: journal write {1} failed; the partition restarts from its journal and senders retry", PersistenceId, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }
}
