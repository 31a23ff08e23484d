// One HTTP write stream ("http:writes", or "http:writes/k" of several; see WriteStreams): a sharded persistent actor that
// gives client batches durable, gap-free offsets of its stream, journals each group of batches as one atomic write,
// remembers idempotency keys across restarts, submits what it journaled as runs (the next while earlier ones are still
// being applied), and answers a batch only after every partition it touches has it and its watermark is reported.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Ingest;
using ContextLake.Platform.State;

namespace ContextLake.Connectors.Http;

public sealed class HttpWriteLog : ReceivePersistentActor, IWithTimers
{
    private sealed record Waiter(IActorRef ReplyTo, WritesAppended Answer, long UpTo);
    private sealed record Buffered(IActorRef ReplyTo, AppendWrites Command);
    private sealed record Flush
    {
        public static Flush Instance { get; } = new();
    }
    private sealed record SnapshotWhenIdle
    {
        public static SnapshotWhenIdle Instance { get; } = new();
    }
    private sealed record Admitted(long UpTo, Task<RunReport> Applied);
    private sealed record Applied(long UpTo);
    private sealed record SubmitFailed(Exception Cause);
    private sealed record RetrySubmit
    {
        public static RetrySubmit Instance { get; } = new();
    }

    private readonly StreamRuns _runs;
    private readonly EpochClock _clock;
    private readonly WriteLogOptions _options;
    private readonly string _id;
    /// <summary>This stream's share of Writes:MaxPendingEvents.</summary>
    private readonly long _maxPending;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private long _nextOffset = 1;
    private long _appliedUpTo;
    private readonly Dictionary<string, long> _keys = new(StringComparer.Ordinal);
    private readonly Queue<string> _keyOrder = new();
    private readonly List<WriteBatchRecord> _unapplied = new();
    private readonly List<Waiter> _waiters = new();
    private readonly List<Buffered> _buffer = new();
    private List<Buffered> _persisting = new();
    private bool _flushScheduled;
    private readonly Quorum _quorum = Quorum.Of(Context.System);
    private bool _submitting;
    private long _submittedUpTo;
    /// <summary>Events in batches taken since the last flush (not yet given offsets).</summary>
    private long _bufferedEvents;
    /// <summary>Events journaled (or replayed) since the last snapshot: the tail the next recovery would replay.</summary>
    private long _sinceSnapshot;
    private DateTime _lastWrite = DateTime.UtcNow;

    public HttpWriteLog(int stream, int streams, StreamRuns runs, WriteLogOptions options, EpochClock clock)
    {
        _runs = runs;
        _clock = clock;
        _options = options;
        _id = WriteStreams.Id(stream);
        StreamId = WriteStreams.Name(stream, streams);
        PersistenceId = "stream-" + StreamId;
        _maxPending = Math.Max(1, (options.MaxPendingEvents + streams - 1) / streams);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is WriteLogSnapshot s) Restore(s);
        });
        Recover<WriteBatchRecord>(Record);
        Recover<RecoveryCompleted>(_ =>
        {
            Submit();
            Timers.StartPeriodicTimer("snapshot-when-idle", SnapshotWhenIdle.Instance, TimeSpan.FromSeconds(1));
        });

        Command<AppendWrites>(cmd =>
        {
            // Bounded admission: what is accepted and not yet applied stays under this stream's share of Writes:MaxPendingEvents.
            // Past it the batch is refused before anything of it is journaled, so the client backs off instead of waiting for its timeout.
            var pending = _nextOffset - 1 - _appliedUpTo + _bufferedEvents;
            if (pending > 0 && pending + cmd.Writes.Count > _maxPending)
            {
                Sender.Tell(new WritesRefused(StreamId, WriteRefusal.Saturated,
                    $"nothing of this batch was written: {pending} events accepted into {StreamId} are not applied yet and each write stream holds at most " +
                    $"{_maxPending} (its share of setting ContextLake:Writes:MaxPendingEvents, {_options.MaxPendingEvents}); ingest is saturated, send it again after Retry-After"));
                return;
            }
            _bufferedEvents += cmd.Writes.Count;
            _buffer.Add(new Buffered(Sender, cmd));
            if (_flushScheduled) return;
            // Everything already in the mailbox lands in the buffer before Flush: one journal write per group.
            _flushScheduled = true;
            Self.Tell(Flush.Instance);
        });
        Command<Flush>(_ => FlushBuffer());
        Command<Admitted>(a =>
        {
            _submitting = false;
            _submittedUpTo = Math.Max(_submittedUpTo, a.UpTo);
            a.Applied.PipeTo(Self, success: _ => new Applied(a.UpTo), failure: ex => new SubmitFailed(ex));
            Submit();
        });
        Command<Applied>(OnApplied);
        Command<SubmitFailed>(f =>
        {
            _log.Error(f.Cause, "submitting {0} after offset {1} failed; retrying in 1s", StreamId, _submittedUpTo);
            Timers.StartSingleTimer("retry-submit", RetrySubmit.Instance, TimeSpan.FromSeconds(1));
        });
        Command<RetrySubmit>(_ =>
        {
            _submitting = false;
            Submit();
        });
        Command<SnapshotWhenIdle>(_ =>
        {
            // Quiet (nothing buffered, nothing waiting) for Writes:SnapshotWhenIdle: snapshot now rather than leave the
            // tail to the next recovery.
            if (_sinceSnapshot > 0 && _options.SnapshotWhenIdle > TimeSpan.Zero && _buffer.Count == 0 && _waiters.Count == 0 &&
                DateTime.UtcNow - _lastWrite >= _options.SnapshotWhenIdle)
                Snapshot();
        });
        Command<GetWriteLogPosition>(_ => Sender.Tell(new WriteLogPosition(StreamId, _nextOffset - 1, _appliedUpTo)));
        // Commands are taken only after recovery: the answer says the stream is up (the keeper greets it to start it).
        Command<StartPartition>(_ => Sender.Tell(new PartitionStarted(WriteStreams.RegionName, _id, _keys.Count, _appliedUpTo)));
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "snapshot of {0} failed", StreamId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old snapshots of {0} failed", StreamId));
    }

    /// <summary>This stream's name.</summary>
    public string StreamId { get; }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    private void FlushBuffer()
    {
        _flushScheduled = false;
        if (_buffer.Count == 0) return;
        if (!_quorum.Held)
        {
            // This node does not hear a majority: another node may run this stream already (see Quorum). The batches wait.
            _flushScheduled = true;
            Timers.StartSingleTimer("fenced", Flush.Instance, TimeSpan.FromMilliseconds(200));
            return;
        }
        _bufferedEvents = 0;

        var records = new List<WriteBatchRecord>();
        var batchKeys = new Dictionary<string, long>(StringComparer.Ordinal);
        var next = _nextOffset;
        foreach (var (replyTo, cmd) in _buffer)
        {
            var offsets = new long[cmd.Writes.Count];
            var fresh = new List<IngestEvent>();
            var freshKeys = new List<string?>();
            for (var i = 0; i < offsets.Length; i++)
            {
                var w = cmd.Writes[i];
                if (w.IdempotencyKey is { } key && (_keys.TryGetValue(key, out var seen) || batchKeys.TryGetValue(key, out seen)))
                {
                    offsets[i] = seen;
                    continue;
                }
                offsets[i] = next;
                fresh.Add(new IngestEvent(StreamId, next, w.EventTime, w.EntityType, w.EntityId, w.Kind, w.Data));
                freshKeys.Add(w.IdempotencyKey);
                if (w.IdempotencyKey is { } k) batchKeys[k] = next;
                next++;
            }

            var answer = new WritesAppended(StreamId, offsets, fresh.Count);
            _waiters.Add(new Waiter(replyTo, answer, offsets.Length == 0 ? 0 : offsets.Max()));
            if (fresh.Count > 0) records.Add(new WriteBatchRecord(fresh, freshKeys));
        }

        _persisting = new List<Buffered>(_buffer);
        _buffer.Clear();
        if (records.Count == 0)
        {
            ReplyApplied();
            return;
        }

        // PersistAll is one atomic write: the whole group is journaled or none of it, so offsets stay gap-free.
        var remaining = records.Count;
        PersistAll(records, rec =>
        {
            Record(rec);
            _lastWrite = DateTime.UtcNow;
            if (--remaining == 0)
            {
                _persisting = new List<Buffered>();
                Submit();
            }
        });
    }

    private void Record(WriteBatchRecord rec)
    {
        _sinceSnapshot += rec.Events.Count;
        for (var i = 0; i < rec.Events.Count; i++)
        {
            var offset = rec.Events[i].Offset;
            _nextOffset = Math.Max(_nextOffset, offset + 1);
            if (rec.Keys[i] is { } key) RememberKey(key, offset);
        }
        if (rec.Events[^1].Offset > _appliedUpTo) _unapplied.Add(rec);
    }

    private void RememberKey(string key, long offset)
    {
        if (!_keys.TryAdd(key, offset)) return;
        _keyOrder.Enqueue(key);
        while (_keyOrder.Count > _options.IdempotencyKeys) _keys.Remove(_keyOrder.Dequeue());
    }

    /// <summary>
    /// Submits everything journaled and not yet submitted as one run, once the previous run is admitted (runs of a
    /// stream reach the tracker in offset order); several runs are applied at once.
    /// </summary>
    private void Submit()
    {
        if (_submitting) return;
        if (!_clock.Known)
        {
            // Until this node knows the committed epoch it cannot tell what is applied already: look again shortly.
            Timers.StartSingleTimer("submit-when-known", RetrySubmit.Instance, TimeSpan.FromMilliseconds(100));
            return;
        }
        // What the committed epoch covers is applied everywhere: after a restart, only the rest is submitted again.
        var committed = _clock.Latest[StreamId];
        if (committed > _appliedUpTo)
        {
            _appliedUpTo = committed;
            _unapplied.RemoveAll(r => r.Events[^1].Offset <= _appliedUpTo);
            ReplyApplied();
        }
        _submittedUpTo = Math.Max(_submittedUpTo, _appliedUpTo);
        var events = _unapplied.Where(r => r.Events[^1].Offset > _submittedUpTo).SelectMany(r => r.Events).Where(e => e.Offset > _submittedUpTo).ToList();
        if (events.Count == 0) return;
        _submitting = true;
        var upTo = events[^1].Offset;
        _runs.SubmitAsync(StreamId, events, upTo, _nextOffset - 1).PipeTo(Self,
            success: applied => new Admitted(upTo, applied),
            failure: ex => new SubmitFailed(ex));
    }

    private void OnApplied(Applied applied)
    {
        _appliedUpTo = Math.Max(_appliedUpTo, applied.UpTo);
        _unapplied.RemoveAll(r => r.Events[^1].Offset <= _appliedUpTo);
        ReplyApplied();
        if (_sinceSnapshot >= _options.SnapshotEvery) Snapshot();
    }

    private void Snapshot()
    {
        _sinceSnapshot = 0;
        SaveSnapshot(new WriteLogSnapshot(
            _nextOffset, _appliedUpTo,
            _keyOrder.Select(k => new IdempotencyEntry(k, _keys[k])).ToList(),
            _unapplied.ToList()));
    }

    private void ReplyApplied()
    {
        foreach (var w in _waiters.Where(w => w.UpTo <= _appliedUpTo).ToList())
        {
            w.ReplyTo.Tell(w.Answer);
            _waiters.Remove(w);
        }
    }

    private void Restore(WriteLogSnapshot s)
    {
        _nextOffset = s.NextOffset;
        _appliedUpTo = s.AppliedUpTo;
        _submittedUpTo = s.AppliedUpTo;
        _keys.Clear();
        _keyOrder.Clear();
        foreach (var entry in s.Keys) RememberKey(entry.Key, entry.Offset);
        _unapplied.Clear();
        _unapplied.AddRange(s.Unapplied);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // The group was not journaled: tell its clients now rather than letting them time out.
        FailPersisting(cause);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        FailPersisting(cause);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private void FailPersisting(Exception cause)
    {
        var failed = _persisting.Select(b => b.ReplyTo).ToHashSet();
        foreach (var w in _waiters.Where(w => failed.Contains(w.ReplyTo)).ToList())
        {
            w.ReplyTo.Tell(new WritesRefused(StreamId, WriteRefusal.JournalUnavailable,
                $"nothing of this batch was written: the journal refused the write of {StreamId}: {cause.Message}"));
            _waiters.Remove(w);
        }
    }
}
