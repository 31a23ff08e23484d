// The one owner of a Kafka consumer: it alone calls Consume, so librdkafka's rebalance callbacks run
// inside its own message handling; it buffers records per partition up to a limit, pauses a partition whose
// buffer is full because its sub-source asks for nothing (that is the backpressure) and batches commits.
// librdkafka keeps a partition's pause flag across a revoke and a later assignment of the same partition
// (confluentinc/librdkafka#1849), so the actor tracks that flag per partition, not per assignment, and
// resumes a re-assigned partition that was paused before.
using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Event;
using Confluent.Kafka;

namespace ContextLake.Connectors.Kafka;

internal sealed class KafkaConsumerActor : ReceiveActor, IWithTimers
{
    // Records taken from librdkafka in one Poll message before the mailbox gets a turn.
    private const int MaxRecordsPerPoll = 2000;
    private static readonly TimeSpan MaxPollSlice = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan CommitRetryDelay = TimeSpan.FromMilliseconds(100);

    private sealed class PartitionState(long epoch)
    {
        public long Epoch { get; } = epoch;
        public Queue<ConsumeResult<byte[]?, byte[]?>> Buffer { get; } = new();
        public IActorRef? Stage { get; set; }
        public bool Demand { get; set; }
        // Its sub-source was cancelled: nobody reads this partition until it is assigned again.
        public bool Released { get; set; }
        // Assigned while librdkafka still held it paused from an earlier assignment: once resumed it is sought to
        // the assigned start, since a resume right after an assignment can make librdkafka drop the start offset
        // (confluentinc/librdkafka#2190) and fetch on from where the earlier assignment stopped.
        public Offset? SeekOnResume { get; set; }
    }

    private sealed record Poll
    {
        public static Poll Instance { get; } = new();
    }

    /// <summary>The idle pause is over: poll again.</summary>
    private sealed record PollDue
    {
        public static PollDue Instance { get; } = new();
    }
    private sealed record FlushCommits
    {
        public static FlushCommits Instance { get; } = new();
    }

    private readonly KafkaSourceSettings _settings;
    private readonly Func<TopicPartition, long?> _startOffset;
    private readonly TaskCompletionSource _stopped;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly Dictionary<TopicPartition, PartitionState> _partitions = new();
    private readonly Dictionary<TopicPartition, long> _pendingCommits = new();
    // Partitions librdkafka holds paused: kept across assignments, since librdkafka keeps the flag too.
    private readonly HashSet<TopicPartition> _paused = new();
    private readonly List<IActorRef> _commitWaiters = new();
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private IActorRef? _source;
    private long _nextEpoch;
    private bool _pollQueued;
    private bool _pollDue;
    private bool _flushQueued;
    private DateTime _commitDeadline;
    private bool _closed;

    public KafkaConsumerActor(KafkaSourceSettings settings, Func<TopicPartition, long?> startOffset, TaskCompletionSource stopped)
    {
        _settings = settings;
        _startOffset = startOffset;
        _stopped = stopped;

        Receive<AttachSource>(_ => Attach());
        Receive<Poll>(_ => PollOnce());
        Receive<PollDue>(_ =>
        {
            _pollDue = false;
            PollOnce();
        });
        Receive<RegisterPartition>(Register);
        Receive<RequestRecords>(OnRequest);
        Receive<ReleasePartition>(Release);
        Receive<CommitOffsets>(OnCommit);
        Receive<FlushCommits>(_ =>
        {
            _flushQueued = false;
            TryCommit();
        });
        Receive<GetConsumerStatus>(_ => Sender.Tell(Status()));
        Receive<StopConsumer>(_ => Shutdown(null));
        Receive<DetachSource>(_ => Shutdown(null));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(KafkaSourceSettings settings, Func<TopicPartition, long?> startOffset, TaskCompletionSource stopped) =>
        Akka.Actor.Props.Create(() => new KafkaConsumerActor(settings, startOffset, stopped)).WithDispatcher(settings.Dispatcher);

    protected override void PreStart()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _settings.BootstrapServers,
            GroupId = _settings.GroupId,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // A partition resumed while a long-poll fetch to its broker is outstanding waits for that fetch:
            // keep the wait short, since this consumer pauses and resumes partitions all the time.
            FetchWaitMaxMs = 100,
        };
        foreach (var (name, value) in _settings.Properties) config.Set(name, value);
        // Offsets are committed only when the application says a record is processed.
        config.EnableAutoCommit = false;

        var log = _log;
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            // Confluent runs these three inside Consume/Close, and only this actor calls those: they are part
            // of the actor's current message, so they change its state directly and stay atomic with the buffers.
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition), lost: false))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition), lost: true))
            .SetErrorHandler((_, error) => OnError(error))
            // librdkafka logs from its own threads; the bus logger may be used from any thread.
            .SetLogHandler((_, m) =>
            {
                if (m.Level <= SyslogLevel.Warning) log.Warning("librdkafka {0} {1}: {2}", m.Name, m.Facility, m.Message);
            })
            .Build();
    }

    protected override void PostStop()
    {
        if (!_closed)
        {
            // Stopped from outside (system shutdown, parent stop): still leave the group so others take over.
            _closed = true;
            try
            {
                _consumer?.Close();
            }
            catch (Exception ex)
            {
                _log.Warning(ex, "closing the Kafka consumer of group {0} failed", _settings.GroupId);
            }
            _consumer?.Dispose();
            _source?.Tell(new ConsumerStopped(null));
        }
        foreach (var waiter in _commitWaiters)
            waiter.Tell(new Status.Failure(new InvalidOperationException("the Kafka consumer stopped before the commit")));
        _commitWaiters.Clear();
        _stopped.TrySetResult();
    }

    private IConsumer<byte[]?, byte[]?> Consumer => _consumer ?? throw new InvalidOperationException("the consumer is not started");

    private void Attach()
    {
        if (_source is not null)
        {
            Sender.Tell(new ConsumerStopped(new InvalidOperationException("a Kafka source can be materialized only once")));
            return;
        }
        _source = Sender;
        Consumer.Subscribe(_settings.Topics);
        SchedulePoll(immediately: true);
    }

    /// <summary>
    /// A poll now (behind the mailbox), or after the idle pause. The pause is a .NET timer: Akka's scheduler would round it
    /// up to its 10 ms tick, and every record arriving at an idle consumer would wait for it.
    /// </summary>
    private void SchedulePoll(bool immediately)
    {
        if (_closed) return;
        if (immediately)
        {
            if (_pollQueued) return;
            _pollQueued = true;
            Self.Tell(Poll.Instance);
        }
        else if (!_pollQueued && !_pollDue)
        {
            _pollDue = true;
            var self = Self;
            _ = Task.Delay(_settings.EffectivePollTimeout).ContinueWith(_ => self.Tell(PollDue.Instance), TaskScheduler.Default);
        }
    }

    private void PollOnce()
    {
        _pollQueued = false;
        if (_closed) return;
        var taken = 0;
        var watch = Stopwatch.StartNew();
        try
        {
            // Zero timeouts: the actor never waits inside librdkafka; an idle consumer is polled by the timer.
            while (taken < MaxRecordsPerPoll && watch.Elapsed < MaxPollSlice)
            {
                var result = Consumer.Consume(TimeSpan.Zero);
                if (result is null) break;
                if (result.IsPartitionEOF) continue;
                taken++;
                Accept(result);
            }
        }
        catch (ConsumeException ex) when (!ex.Error.IsFatal)
        {
            _log.Warning("consuming for group {0}: {1}", _settings.GroupId, ex.Error.Reason);
        }
        catch (KafkaException ex) when (ex.Error.IsFatal)
        {
            Shutdown(ex);
            return;
        }
        if (_closed) return;

        Dispatch();
        UpdatePauses();
        // A full slice means more may be waiting: come back right after the mailbox had its turn.
        SchedulePoll(immediately: taken >= MaxRecordsPerPoll || watch.Elapsed >= MaxPollSlice);
    }

    private void Accept(ConsumeResult<byte[]?, byte[]?> result)
    {
        if (!_partitions.TryGetValue(result.TopicPartition, out var state))
        {
            _log.Warning("record of unassigned partition {0} at {1} dropped", result.TopicPartition, result.Offset);
            return;
        }
        if (state.Buffer.Count >= _settings.MaxBufferPerPartition)
        {
            // Already fetched beyond what may be held: rewind so the record is fetched again after resume.
            PauseNow(result.TopicPartition);
            Consumer.Seek(result.TopicPartitionOffset);
            return;
        }
        state.Buffer.Enqueue(result);
        if (state.Buffer.Count >= _settings.MaxBufferPerPartition) PauseNow(result.TopicPartition);
    }

    private void PauseNow(TopicPartition partition)
    {
        if (_paused.Add(partition)) Consumer.Pause([partition]);
    }

    // Hand each partition that asked for records everything it has buffered; the request is then answered.
    private void Dispatch()
    {
        foreach (var state in _partitions.Values)
        {
            if (!state.Demand || state.Stage is null || state.Buffer.Count == 0) continue;
            var batch = state.Buffer.ToArray();
            state.Buffer.Clear();
            state.Demand = false;
            state.Stage.Tell(new PartitionRecords(state.Epoch, batch));
        }
    }

    // A partition fetches while someone may read it and its buffer has room; a full buffer means its sub-source
    // has not asked for records (no downstream demand), so it is paused until a request drains the buffer.
    // Not pausing on every answered request matters: each pause/resume is a version barrier in librdkafka that
    // discards the fetch in flight and can delay the next one by up to a second.
    private void UpdatePauses()
    {
        var pause = new List<TopicPartition>();
        var resume = new List<TopicPartition>();
        foreach (var (partition, state) in _partitions)
        {
            var fetch = !state.Released && state.Buffer.Count < _settings.MaxBufferPerPartition;
            if (fetch && _paused.Remove(partition)) resume.Add(partition);
            else if (!fetch && _paused.Add(partition)) pause.Add(partition);
        }
        if (pause.Count > 0) Consumer.Pause(pause);
        if (resume.Count == 0) return;
        Consumer.Resume(resume);
        foreach (var partition in resume)
        {
            var state = _partitions[partition];
            if (state.SeekOnResume is not { } start) continue;
            state.SeekOnResume = null;
            try
            {
                Consumer.Seek(new TopicPartitionOffset(partition, start));
            }
            catch (KafkaException ex)
            {
                _log.Warning("seeking re-assigned {0} to {1} failed: {2}", partition, start, ex.Error.Reason);
            }
        }
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        var positions = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            long? start = null;
            try
            {
                start = _startOffset(partition);
            }
            catch (Exception ex)
            {
                _log.Error(ex, "start offset callback failed for {0}; starting from the committed offset", partition);
            }
            // Returning the positions from the handler makes librdkafka start fetching there: no fetch from the
            // committed offset happens first, so nothing before the requested start is ever delivered.
            var position = start is { } s ? new Offset(s) : Offset.Unset;
            positions.Add(new TopicPartitionOffset(partition, position));
            var state = new PartitionState(++_nextEpoch)
            {
                SeekOnResume = _paused.Contains(partition) && position != Offset.Unset ? position : null,
            };
            // Fetching starts right away and fills the buffer while the sub-source is being materialized.
            _partitions[partition] = state;
            _source?.Tell(new PartitionAssigned(partition, state.Epoch));
        }
        _log.Info("group {0} assigned {1}", _settings.GroupId, string.Join(", ", partitions));
        return positions;
    }

    private void OnRevoked(IEnumerable<TopicPartition> partitions, bool lost)
    {
        var revoked = partitions.ToList();
        // The generation is still valid while revoking: the last commits of these partitions go out now.
        if (!lost) TryCommit();
        foreach (var partition in revoked)
        {
            if (!_partitions.Remove(partition, out var state)) continue;
            // Buffered records and an open request are dropped: the new owner reads them from the committed offset.
            state.Stage?.Tell(new PartitionRevoked(state.Epoch));
        }
        _log.Info("group {0} {1} {2}", _settings.GroupId, lost ? "lost" : "revoked", string.Join(", ", revoked));
    }

    private void OnError(Confluent.Kafka.Error error)
    {
        if (error.IsFatal) Self.Tell(new Status.Failure(new KafkaException(error)));
        else _log.Warning("Kafka consumer of group {0}: {1}", _settings.GroupId, error.Reason);
    }

    protected override void Unhandled(object message)
    {
        if (message is Status.Failure { Cause: KafkaException fatal })
        {
            Shutdown(fatal);
            return;
        }
        base.Unhandled(message);
    }

    private void Register(RegisterPartition register)
    {
        if (!_partitions.TryGetValue(register.Partition, out var state) || state.Epoch != register.Epoch)
        {
            Sender.Tell(new PartitionRevoked(register.Epoch));
            return;
        }
        if (state.Stage is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException($"the sub-source of {register.Partition} can be materialized only once")));
            return;
        }
        state.Stage = Sender;
    }

    private void OnRequest(RequestRecords request)
    {
        if (!_partitions.TryGetValue(request.Partition, out var state) || state.Epoch != request.Epoch || !Equals(state.Stage, Sender))
        {
            Sender.Tell(new PartitionRevoked(request.Epoch));
            return;
        }
        state.Demand = true;
        // Answer from the buffer at once if it holds anything; the emptied buffer resumes a paused partition.
        Dispatch();
        UpdatePauses();
        SchedulePoll(immediately: false);
    }

    private void Release(ReleasePartition release)
    {
        if (!_partitions.TryGetValue(release.Partition, out var state) || state.Epoch != release.Epoch || !Equals(state.Stage, Sender)) return;
        // Nobody reads this partition any more in this assignment: hold nothing and fetch nothing for it.
        state.Stage = null;
        state.Released = true;
        state.Demand = false;
        state.Buffer.Clear();
        UpdatePauses();
    }

    private void OnCommit(CommitOffsets commit)
    {
        if (_closed)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the Kafka consumer is stopped")));
            return;
        }
        // The timeout runs from the oldest commit still waiting.
        if (_pendingCommits.Count == 0) _commitDeadline = DateTime.UtcNow + _settings.CommitTimeout;
        foreach (var (partition, offset) in commit.NextOffsets)
            _pendingCommits[partition] = _pendingCommits.TryGetValue(partition, out var known) ? Math.Max(known, offset) : offset;
        _commitWaiters.Add(Sender);
        if (_flushQueued) return;
        // Every commit already in the mailbox joins this one before it goes out: one request per group of commits.
        _flushQueued = true;
        Self.Tell(FlushCommits.Instance);
    }

    private void TryCommit()
    {
        if (_pendingCommits.Count == 0 || _consumer is null || _closed) return;
        var offsets = _pendingCommits.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value))).ToList();
        try
        {
            Consumer.Commit(offsets);
        }
        catch (KafkaException ex) when (Retriable(ex) && DateTime.UtcNow < _commitDeadline)
        {
            // A rebalance is under way: keep the offsets (later commits merge in) and try again shortly.
            Timers.StartSingleTimer("commit-retry", FlushCommits.Instance, CommitRetryDelay);
            return;
        }
        catch (KafkaException ex)
        {
            _log.Warning("commit of group {0} failed: {1}", _settings.GroupId, ex.Error.Reason);
            _pendingCommits.Clear();
            foreach (var waiter in _commitWaiters) waiter.Tell(new Status.Failure(ex));
            _commitWaiters.Clear();
            return;
        }
        _pendingCommits.Clear();
        foreach (var waiter in _commitWaiters) waiter.Tell(Done.Instance);
        _commitWaiters.Clear();
    }

    private static bool Retriable(KafkaException ex)
    {
        var codes = new List<ErrorCode> { ex.Error.Code };
        if (ex is TopicPartitionOffsetException partial) codes.AddRange(partial.Results.Select(r => r.Error.Code));
        return codes.Any(code => code is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId
            or ErrorCode.NotCoordinatorForGroup or ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.GroupLoadInProgress
            or ErrorCode.RequestTimedOut or ErrorCode.Local_TimedOut or ErrorCode.Local_State or ErrorCode.Local_WaitCoord);
    }

    private KafkaConsumerStatus Status() => new(
        _partitions.Keys.ToList(),
        _partitions.Keys.Where(_paused.Contains).ToList(),
        _partitions.ToDictionary(p => p.Key, p => p.Value.Buffer.Count),
        // librdkafka caches each partition's high watermark from fetch responses: no broker round trip here.
        _partitions.Keys
            .Select(tp => (tp, end: _consumer?.GetWatermarkOffsets(tp).High ?? Offset.Unset))
            .Where(e => e.end != Offset.Unset)
            .ToDictionary(e => e.tp, e => e.end.Value));

    private void Shutdown(Exception? cause)
    {
        if (_closed) return;
        if (cause is null) TryCommit();
        try
        {
            // Close leaves the group (the revoke handler above completes every sub-source) so others rebalance now,
            // not after the session timeout.
            Consumer.Close();
        }
        catch (Exception ex)
        {
            _log.Warning(ex, "closing the Kafka consumer of group {0} failed", _settings.GroupId);
        }
        _closed = true;
        Consumer.Dispose();
        foreach (var state in _partitions.Values) state.Stage?.Tell(new PartitionRevoked(state.Epoch));
        _partitions.Clear();
        _source?.Tell(new ConsumerStopped(cause));
        Context.Stop(Self);
    }
}
