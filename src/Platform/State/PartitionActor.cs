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
//
// The same actor runs as a partition's standby on another node (PartitionRole.Standby, placed by the PartitionKeeper):
// it recovers like the owner, then follows the owner's journal rows every State:StandbyPoll, applying them with the
// same code, and commits an epoch only once it has read every row written before that epoch was published (all of
// an epoch's rows are journaled before it commits). It never writes. Its versions answer stale-ok reads while the
// owner is unreachable, and when sharding starts the partition on the standby's node the new owner takes the
// standby's committed state in memory and reads only the rows after it, instead of a snapshot and its tail.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Platform.State;

/// <summary>What a partition actor is for: the owner of its key group, or a warm standby on another node.</summary>
public enum PartitionRole
{
    Owner,
    Standby,
}

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

    private sealed record Follow
    {
        public static Follow Instance { get; } = new();
    }

    /// <summary>Rows a standby read after the last it applied, and the newest epoch its node knew before it asked.</summary>
    private sealed record Followed(IReadOnlyList<(long SeqNr, object Row)> Rows, long Known, bool More);

    private sealed record FollowFailed(Exception Cause);

    /// <summary>A new owner's take-over: the standby's committed state and the journal rows after it.</summary>
    private sealed record TakenOver(object Snapshot, long Row, IReadOnlyList<(long SeqNr, object Row)> Tail);

    private sealed record TakeOverFailed(Exception Cause);

    /// <summary>Rows a standby reads at most per poll (it asks again at once when there were more).</summary>
    private const int FollowBatch = 500;

    private static readonly TimeSpan ParkedReadsExpire = TimeSpan.FromMinutes(1);

    /// <summary>How soon a partition whose node does not hear a majority asks again before writing.</summary>
    private static readonly TimeSpan FencedRetry = TimeSpan.FromMilliseconds(200);

    private readonly Quorum _quorum = Quorum.Of(Context.System);
    private bool _fenced;

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
    private readonly Dictionary<Type, Action<object>> _rowTypes = new();
    /// <summary>The row being applied outside recovery (a standby's followed row, a new owner's tail row).</summary>
    private long? _applyingRow;
    /// <summary>Standby: the last row applied.</summary>
    private long _followedRow;
    /// <summary>Standby: the newest epoch all of whose rows it has read (its node knew the epoch before the read began).</summary>
    private long _commitLimit = long.MaxValue;
    private long _knownAtStart;
    private bool _following;
    /// <summary>Owner: the standby on this node it takes over from (then it recovers nothing and takes the standby's state).</summary>
    private IActorRef? _takeOverFrom;

    protected PartitionActor(string region, string partitionId, EpochClock clock, StateOptions options, LocalPartitions? local = null,
        PartitionRole role = PartitionRole.Owner)
    {
        RegionName = region;
        PartitionId = partitionId;
        Partition = int.TryParse(partitionId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : -1;
        Clock = clock;
        Options = options;
        Local = local;
        Role = role;
        PersistenceId = PartitionJournal.PersistenceIdOf(region, partitionId);
        if (role == PartitionRole.Owner && Partition >= 0) _takeOverFrom = local?.StandbyActor(region, Partition);
        if (role == PartitionRole.Standby) _commitLimit = 0;

        Recover<SnapshotOffer>(offer =>
        {
            RestoreSnapshot(offer.Snapshot);
            _recoveredFromSnapshot = _snapshotRow = offer.Metadata.SequenceNr;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            if (_takeOverFrom is { } standby) TakeOver(standby);
            else Started();
        });
        Command<Follow>(_ => FollowRows());
        Command<Followed>(Apply);
        Command<FollowFailed>(f =>
        {
            _following = false;
            Log.Warning(f.Cause, "standby {0}: reading the owner's rows failed; it tries again", PersistenceId);
        });
        Command<TakenOver>(TookOver);
        Command<TakeOverFailed>(f =>
        {
            // Nothing of the standby's was applied: start again, recovering from the journal as any owner does.
            Log.Warning(f.Cause, "{0}: taking over from the standby on this node failed; recovering from the journal", PersistenceId);
            throw new InvalidOperationException($"{PersistenceId}: take-over from the standby failed", f.Cause);
        });
        Command<HandOver>(_ => HandOverTo(Sender));

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

    /// <summary>An owner taking over from a standby on its node recovers nothing from the journal: the standby's state is newer.</summary>
    public override Recovery Recovery => _takeOverFrom is null ? base.Recovery : Recovery.None;

    protected PartitionRole Role { get; }

    protected bool IsStandby => Role == PartitionRole.Standby;

    /// <summary>The node's registry of partitions and standbys (null for partitions the gateway does not read directly).</summary>
    protected LocalPartitions? Local { get; }

    /// <summary>The journal row being applied (in recovery, live, followed by a standby, or replayed after a take-over).</summary>
    protected long RowNr => _applyingRow ?? Math.Max(LastSequenceNr, _followedRow);

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
    protected void Row<TRow>(Action<TRow> apply, Func<TRow, int> changes)
    {
        Recover<TRow>(row =>
        {
            apply(row);
            _rowsReplayed++;
            _changesSinceSnapshot += Math.Max(1, changes(row));
        });
        _rowTypes[typeof(TRow)] = row => apply((TRow)row);
    }

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

    /// <summary>
    /// What the gateway reads directly (registered in LocalPartitions once the state is whole: after recovery or a take-over,
    /// and removed when the actor stops); null for partitions only read through their actor.
    /// </summary>
    protected virtual object? Published => null;

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
        _knownAtStart = Clock.Known ? Clock.Latest.N : 0;
        if (IsStandby && Partition >= 0) Local?.RegisterStandby(RegionName, Partition, Self);
        var self = Self;
        _epochs = Clock.Subscribe(() =>
        {
            if (Interlocked.Exchange(ref _tickPending, 1) == 0) self.Tell(EpochTick.Instance);
        });
    }

    protected override void PostStop()
    {
        if (IsStandby && Partition >= 0) Local?.UnregisterStandby(RegionName, Partition, Self);
        if (Published is { } published) Local?.Unregister(RegionName, Partition, published, Role);
        _epochs?.Dispose();
        base.PostStop();
    }

    /// <summary>Work was buffered: it goes into the next row, after everything already in the mailbox.</summary>
    protected void WorkArrived()
    {
        if (_writing || _flushScheduled || IsStandby) return;
        _flushScheduled = true;
        Self.Tell(Flush.Instance);
    }

    private void Write()
    {
        if (_writing || IsStandby) return;
        if (!_quorum.Held)
        {
            // A node that no longer hears most of the cluster holds its work: it is about to be downed, and another node
            // may own this partition already (see Quorum).
            if (!_fenced) Log.Warning("{0}: this node does not hear a majority of the cluster; writes wait", PersistenceId);
            _fenced = true;
            if (!_flushScheduled)
            {
                _flushScheduled = true;
                Timers.StartSingleTimer("fenced", Flush.Instance, FencedRetry);
            }
            return;
        }
        if (_fenced) Log.Info("{0}: this node hears a majority of the cluster again; writes go on", PersistenceId);
        _fenced = false;
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
        if (IsStandby) return;
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
        if (IsStandby)
        {
            // A standby answers what it has now, never later: the reader reads again at an epoch it holds.
            Sender.Tell(new StandbyBehind(CommittedThrough));
            return false;
        }
        _parked.Add((message, Sender, n, DateTime.UtcNow));
        return false;
    }

    /// <summary>
    /// Turns pending changes that the epoch already committed here covers into versions of that epoch at once: changes
    /// that arrive covered (a backfill's, of events committed long ago) would otherwise wait for the next epoch.
    /// </summary>
    protected void CommitCovered()
    {
        if (!Clock.Known || !IsRecoveryFinished || !CanCommit || CommittedThrough == 0 || _takeOverFrom is not null) return;
        if (Clock.Find(CommittedThrough) is { } committed) Commit([committed], Clock.Horizon.N);
    }

    private void CatchUp()
    {
        if (!Clock.Known || !IsRecoveryFinished || !CanCommit || _takeOverFrom is not null) return;
        var epochs = Clock.After(CommittedThrough);
        if (IsStandby && epochs.Count > 0 && epochs[^1].N > _commitLimit) epochs = epochs.Where(e => e.N <= _commitLimit).ToList();
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

    /// <summary>Recovery is over (from the journal, or from a standby's state): the partition starts its work.</summary>
    private void Started()
    {
        // Only now may a gateway read the store directly: during a restore it would find keys missing at the restored epoch.
        if (Published is { } published) Local?.Register(RegionName, Partition, published, Role);
        if (!IsStandby) Recovered();
        // An owner that recovered from the journal while a standby of its own partition ran on this node: the standby goes.
        if (!IsStandby && Partition >= 0 && Local?.StandbyActor(RegionName, Partition) is { } redundant) redundant.Tell(PoisonPill.Instance);
        var took = System.Diagnostics.Stopwatch.GetElapsedTime(_started);
        if (!IsStandby) Telemetry.Failovers.Get(Context.System).PartitionReady(RegionName, Partition, KeyCount, took);
        if (took > TimeSpan.FromSeconds(1))
            Log.Info("{0}{1} recovered in {2:0.0} s: {3} keys, snapshot at row {4}, {5} rows replayed", IsStandby ? "standby " : "", PersistenceId,
                took.TotalSeconds, KeyCount, _recoveredFromSnapshot, _rowsReplayed);
        if (IsStandby)
        {
            // Recovery read every row written before it began, so every epoch this node knew then is whole here.
            _followedRow = LastSequenceNr;
            _commitLimit = _knownAtStart;
            Timers.StartPeriodicTimer("follow", Follow.Instance, Options.StandbyPoll);
        }
        CatchUp();
        Timers.StartPeriodicTimer("maintain", Maintain.Instance, TimeSpan.FromSeconds(1));
    }

    /// <summary>Standby: reads the owner's rows after the last it applied (one read at a time).</summary>
    private void FollowRows()
    {
        if (_following || !IsRecoveryFinished) return;
        _following = true;
        var known = Clock.Known ? Clock.Latest.N : 0;
        var system = Context.System;
        var (pid, after) = (PersistenceId, _followedRow);
        ReadRowsAsync(system, pid, after, FollowBatch).PipeTo(Self,
            success: rows => new Followed(rows, known, rows.Count == FollowBatch),
            failure: ex => new FollowFailed(ex));
    }

    private static async Task<IReadOnlyList<(long SeqNr, object Row)>> ReadRowsAsync(ActorSystem system, string persistenceId, long after, long max)
    {
        var rows = new List<(long, object)>();
        await foreach (var row in PartitionJournal.RowsAfterAsync(system, persistenceId, after, max, CancellationToken.None)) rows.Add(row);
        return rows;
    }

    private void Apply(Followed followed)
    {
        _following = false;
        var last = _followedRow;
        var whole = ApplyRows(followed.Rows, ref last);
        _followedRow = last;
        if (!whole) return;
        if (followed.More)
        {
            Self.Tell(Follow.Instance);
            return;
        }
        _commitLimit = Math.Max(_commitLimit, followed.Known);
        CatchUp();
    }

    /// <summary>
    /// Applies rows read from the journal after row <paramref name="last"/>, in order, with the code recovery runs; false at a
    /// gap (the rows are read again). <paramref name="last"/> ends at the last row applied.
    /// </summary>
    private bool ApplyRows(IReadOnlyList<(long SeqNr, object Row)> rows, ref long last)
    {
        try
        {
            foreach (var (seqNr, row) in rows)
            {
                if (seqNr <= last) continue;
                if (seqNr != last + 1) return false;
                if (!_rowTypes.TryGetValue(row.GetType(), out var apply))
                    throw new InvalidOperationException($"{PersistenceId}: row {seqNr} is a {row.GetType().Name}, which this partition does not journal");
                _applyingRow = seqNr;
                apply(row);
                _rowsReplayed++;
                last = seqNr;
            }
            return true;
        }
        finally
        {
            _applyingRow = null;
        }
    }

    /// <summary>
    /// Standby: hands its committed state, as a snapshot taken now would hold it, to the new owner on this node, and stops.
    /// </summary>
    private void HandOverTo(IActorRef owner)
    {
        // Gone from the registry at once: an owner that starts again after a failed take-over recovers from the journal.
        if (Partition >= 0) Local?.UnregisterStandby(RegionName, Partition, Self);
        var row = IsStandby && IsRecoveryFinished ? SnapshotRow : -1;
        if (row < 0)
        {
            owner.Tell(new Status.Failure(new InvalidOperationException($"standby {PersistenceId} holds no committed state to hand over yet")));
        }
        else
        {
            owner.Tell(new HandedOver(CaptureSnapshot(), row));
        }
        Context.Stop(Self);
    }

    /// <summary>New owner on the standby's node: the standby's state, then the rows after it, then work (everything else waits).</summary>
    private void TakeOver(IActorRef standby)
    {
        var system = Context.System;
        var (pid, highest) = (PersistenceId, LastSequenceNr);
        Log.Info("{0} taking over from the standby on this node (journal at row {1})", pid, highest);
        Task.Run(async () =>
        {
            var handed = await standby.Ask<HandedOver>(HandOver.Instance, TimeSpan.FromSeconds(10));
            var tail = await ReadRowsAsync(system, pid, handed.Row, Math.Max(0, highest - handed.Row));
            return new TakenOver(handed.Snapshot, handed.Row, tail);
        }).PipeTo(Self, success: t => t, failure: ex => new TakeOverFailed(ex));
    }

    private void TookOver(TakenOver taken)
    {
        RestoreSnapshot(taken.Snapshot);
        _recoveredFromSnapshot = _snapshotRow = taken.Row;
        var last = taken.Row;
        if (!ApplyRows(taken.Tail, ref last) || last != LastSequenceNr)
            throw new InvalidOperationException($"{PersistenceId}: the rows after the standby's state (row {taken.Row}) end at {last}, not at {LastSequenceNr}");
        _takeOverFrom = null;
        Log.Info("{0} took over from the standby on this node: {1} keys, state at row {2}, {3} rows after it, in {4:0.000} s", PersistenceId, KeyCount,
            taken.Row, taken.Tail.Count, System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalSeconds);
        Started();
        Stash.UnstashAll();
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        // While a new owner takes over, everything but the take-over waits (after recovery, which passes as always).
        if (_takeOverFrom is not null && IsRecoveryFinished && message is not (TakenOver or TakeOverFailed))
        {
            Stash.Stash();
            return true;
        }
        return base.AroundReceive(receive, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "{0}: journal write {1} failed; the partition restarts from its journal and senders retry", PersistenceId, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }
}
