// The run tracker of a node: the one place that knows when a run of a stream is applied. A source's run
// arrives split by entity partition; the tracker sends each partition its part (cut below the message
// size, chained per partition), while earlier runs of the stream are still being applied. Entity
// partitions answer what they journaled and what their derived changes wait for; the view and vector
// partitions answer the tracker directly once they journaled those changes. Runs complete in order: the
// stream's watermark moves to a run's end only when it and every earlier run are applied everywhere.
// A run not confirmed within State:RetryAfter, while its stream heard nothing from any partition for as
// long, is sent again (partitions drop what they have and send their derived changes again), with
// backoff: a slow run behind a deep queue is not a lost one, and resending it would only deepen the queue.
// Each stream's watermark is reported again every State:RetryAfter, so an epoch coordinator started again
// (journal failure, failover) learns it even from a stream that has gone quiet. When a member is removed (a failover),
// its partitions start elsewhere once the removal margin has passed: every run in flight is sent again then, without
// waiting for its backoff, since whatever went to the lost node is lost, not slow.
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Platform.Telemetry;

namespace ContextLake.Platform.Ingest;

public sealed class RunTracker : ReceiveActor, IWithTimers
{
    private sealed record Retry
    {
        public static Retry Instance { get; } = new();
    }

    /// <summary>A member was removed: runs in flight are sent again now and, while any stay in flight, <see cref="Again"/> more times, a second apart.</summary>
    private sealed record MemberGone(int Again);

    /// <summary>Resends after a removal: the lost node's partitions start on the survivors within a few seconds of it, not at once.</summary>
    private const int ResendsAfterRemoval = 4;

    private sealed class Run(SubmitRun submit)
    {
        public SubmitRun Submit { get; } = submit;
        public List<ApplyRunPart> Parts { get; } = new();

        /// <summary>The tag of each partition's last part: the partition's part is done when that one is answered.</summary>
        public Dictionary<int, long> Final { get; } = new();
        public HashSet<int> EntityDone { get; } = new();

        /// <summary>The parts whose counts are in <see cref="Persisted"/> and <see cref="Duplicates"/>: each counts once, however often it is answered.</summary>
        public HashSet<long> Counted { get; } = new();
        public Dictionary<(string Region, string Partition, int Source), long> DownstreamNeeds { get; } = new();

        /// <summary>How many of <see cref="DownstreamNeeds"/> the downstream partitions have not journaled yet.</summary>
        public int Unmet { get; set; }
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
        public int Persisted { get; set; }
        public int Duplicates { get; set; }
        public DateTime SentAt { get; set; } = DateTime.UtcNow;
        public int Attempts { get; set; } = 1;
        public long Started { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    private sealed class StreamState
    {
        public Dictionary<int, long> SentTo { get; } = new();
        public LinkedList<Run> InFlight { get; } = new();
        public Dictionary<long, Run> ByTag { get; } = new();
        public Dictionary<(string Region, string Partition, int Source), long> Have { get; } = new();

        /// <summary>
        /// The runs waiting on each downstream chain, by the position they need it to reach: an answer settles the needs it
        /// covers without looking at the runs' other needs (a run over sixteen partitions can wait on hundreds of chains).
        /// </summary>
        public Dictionary<(string Region, string Partition, int Source), PriorityQueue<Run, long>> Waiting { get; } = new();
        public long Read { get; set; }
        public long NextTag { get; set; } = 1;

        /// <summary>When a partition last answered anything of this stream's.</summary>
        public DateTime HeardAt { get; set; } = DateTime.UtcNow;

        /// <summary>The end of the last run applied everywhere: the watermark reported to the epoch coordinator.</summary>
        public long Applied { get; set; }

        public DateTime ReportedAt { get; set; }
    }

    private readonly IActorRef _entities;
    private readonly IActorRef _coordinator;
    private readonly StateOptions _options;
    private readonly IRunObserver _observer;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, StreamState> _streams = new(StringComparer.Ordinal);

    /// <param name="resendAfterMemberRemoved">How long after a member's removal its partitions run elsewhere (the cluster's removal
    /// margin and a little more): then every run in flight is sent again. Null: only the backoff resends.</param>
    public RunTracker(IActorRef entities, IActorRef coordinator, StateOptions options, IRunObserver observer, TimeSpan? resendAfterMemberRemoved = null)
    {
        _entities = entities;
        _coordinator = coordinator;
        _options = options;
        _observer = observer;

        Receive<SubmitRun>(Start);
        Receive<RunPartApplied>(PartApplied);
        Receive<DownstreamApplied>(DownstreamDone);
        Receive<Retry>(_ => RetryStale());
        Receive<Akka.Cluster.ClusterEvent.MemberRemoved>(_ =>
        {
            if (resendAfterMemberRemoved is { } after) Timers.StartSingleTimer("member-gone", new MemberGone(ResendsAfterRemoval), after);
        });
        Receive<Akka.Cluster.ClusterEvent.CurrentClusterState>(_ => { });
        Receive<MemberGone>(gone =>
        {
            foreach (var state in _streams.Values)
            {
                state.HeardAt = DateTime.MinValue;
                foreach (var run in state.InFlight) run.SentAt = DateTime.MinValue;
            }
            RetryStale();
            // Sent again now, and if the partitions were not yet placed again, a second later (a few times), then after
            // State:RetryAfter, not a backoff later.
            foreach (var run in _streams.Values.SelectMany(s => s.InFlight)) run.Attempts = 1;
            if (gone.Again > 0 && _streams.Values.Any(s => s.InFlight.Count > 0))
                Timers.StartSingleTimer("member-gone", new MemberGone(gone.Again - 1), TimeSpan.FromSeconds(1));
        });
        Timers.StartPeriodicTimer("retry", Retry.Instance, TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, options.RetryAfter.Ticks / 4)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(Akka.Cluster.ClusterEvent.MemberRemoved));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private StreamState StateOf(string stream)
    {
        if (!_streams.TryGetValue(stream, out var s)) _streams[stream] = s = new StreamState();
        return s;
    }

    private void Start(SubmitRun submit)
    {
        var state = StateOf(submit.Stream);
        state.Read = Math.Max(state.Read, submit.Read);
        var run = new Run(submit);
        foreach (var (partition, events) in submit.ByPartition)
        {
            // Cut the part below the message size, between events; the last piece speaks for the run's whole range.
            var start = 0;
            while (start < events.Count)
            {
                var end = start;
                var bytes = 0;
                while (end < events.Count && (end == start || bytes + RunParts.EstimatedBytes(events[end]) <= _options.MessageBytes))
                    bytes += RunParts.EstimatedBytes(events[end++]);
                var last = end == events.Count;
                var through = last ? submit.UpTo : events[end - 1].Offset;
                var tag = state.NextTag++;
                run.Parts.Add(RunParts.Part(partition, submit.Stream, state.SentTo.GetValueOrDefault(partition), through,
                    events.Skip(start).Take(end - start).ToList(), tag, Self));
                state.ByTag[tag] = run;
                // A source that started the stream again (its runs below ones still in flight) does not move the chain back.
                state.SentTo[partition] = Math.Max(state.SentTo.GetValueOrDefault(partition), through);
                if (last) run.Final[partition] = tag;
                start = end;
            }
        }
        state.InFlight.AddLast(run);
        foreach (var part in run.Parts) _entities.Tell(part);
        Complete(submit.Stream, state);
    }

    private void PartApplied(RunPartApplied applied)
    {
        if (!_streams.TryGetValue(applied.Stream, out var state) || !state.ByTag.TryGetValue(applied.Tag, out var run)) return;
        state.HeardAt = DateTime.UtcNow;
        foreach (var t in applied.Targets)
        {
            var key = (t.Region, t.Partition, applied.Partition);
            var old = run.DownstreamNeeds.GetValueOrDefault(key);
            if (t.Through <= old) continue;
            run.DownstreamNeeds[key] = t.Through;
            var have = state.Have.GetValueOrDefault(key);
            if (t.Through <= have) continue;
            // A need raised while the lower one was still unmet is the same unmet need; the lower one's entry goes stale.
            if (old <= have) run.Unmet++;
            if (!state.Waiting.TryGetValue(key, out var waiting)) state.Waiting[key] = waiting = new PriorityQueue<Run, long>();
            waiting.Enqueue(run, t.Through);
        }
        run.Keys.UnionWith(applied.Keys);
        if (applied.Last && run.Counted.Add(applied.Tag))
        {
            // A partition's part cut below the message size is answered piece by piece, each with its own counts.
            run.Persisted += applied.Persisted;
            run.Duplicates += applied.Duplicates;
        }
        if (applied.Last && run.Final.GetValueOrDefault(applied.Partition, -1) == applied.Tag) run.EntityDone.Add(applied.Partition);
        Complete(applied.Stream, state);
    }

    private void DownstreamDone(DownstreamApplied applied)
    {
        if (!_streams.TryGetValue(applied.Channel, out var state)) return;
        var key = (applied.Region, applied.Partition, applied.Source);
        if (applied.Have <= state.Have.GetValueOrDefault(key)) return;
        state.Have[key] = applied.Have;
        state.HeardAt = DateTime.UtcNow;
        if (state.Waiting.TryGetValue(key, out var waiting))
            while (waiting.TryPeek(out var run, out var need) && need <= applied.Have)
            {
                waiting.Dequeue();
                // An entry for a need the run has since raised is stale: the raised one is queued too.
                if (run.DownstreamNeeds[key] == need) run.Unmet--;
            }
        Complete(applied.Channel, state);
    }

    /// <summary>Completes the runs at the head of the stream that are applied everywhere, in order.</summary>
    private void Complete(string stream, StreamState state)
    {
        while (state.InFlight.First is { Value: var run } && IsApplied(run))
        {
            state.InFlight.RemoveFirst();
            foreach (var part in run.Parts) state.ByTag.Remove(part.Tag);
            var submit = run.Submit;
            _observer.Applied(stream, submit.UpTo, run.Keys);
            state.Applied = Math.Max(state.Applied, submit.UpTo);
            Report(stream, state, DateTime.UtcNow);
            Metrics.IngestedEvents.WithLabels(Metrics.ConnectorOf(stream), stream).Inc(run.Persisted);
            Metrics.ApplySeconds.WithLabels("run").Observe(System.Diagnostics.Stopwatch.GetElapsedTime(run.Started).TotalSeconds);
            FreshnessTracker.Shared.Applied(stream, submit.UpTo, submit.ReadAt, submit.NewestEventTime);
            submit.Done.TrySetResult(new RunReport(run.Persisted, run.Duplicates));
        }
    }

    private void Report(string stream, StreamState state, DateTime now)
    {
        state.ReportedAt = now;
        _coordinator.Tell(new ReportWatermark(stream, state.Applied, Math.Max(state.Read, state.Applied)));
    }

    private static bool IsApplied(Run run) => run.EntityDone.Count >= run.Final.Count && run.Unmet == 0;

    private void RetryStale()
    {
        var now = DateTime.UtcNow;
        foreach (var (stream, state) in _streams)
        {
            // The watermark again, whatever became of the last report: a coordinator that was started again (after a journal
            // failure, or on another node after a failover) lost what it had not yet journaled, and an idle stream sends no other.
            if (state.Applied > 0 && now - state.ReportedAt >= _options.RetryAfter) Report(stream, state, now);
            foreach (var run in state.InFlight)
            {
                var wait = TimeSpan.FromTicks(_options.RetryAfter.Ticks * Math.Min(8, 1 << Math.Min(3, run.Attempts - 1)));
                if (now - run.SentAt < wait || now - state.HeardAt < wait) continue;
                _log.Warning("run of {0} up to {1} is not applied after {2:0.0} s (attempt {3}); sending it again", stream, run.Submit.UpTo,
                    (now - run.SentAt).TotalSeconds, run.Attempts);
                run.SentAt = now;
                run.Attempts++;
                // Partitions that have journaled their part answer it as a duplicate and send their changes again.
                foreach (var part in run.Parts)
                {
                    var partition = KeyGroups.ParseId(part.Partition);
                    var stuck = !run.EntityDone.Contains(partition) || run.DownstreamNeeds.Any(n =>
                        n.Key.Source == partition && state.Have.GetValueOrDefault(n.Key) < n.Value);
                    if (stuck) _entities.Tell(part);
                }
            }
        }
    }
}
