// Reconciliation jobs: the decisions recorded in a time range, read from the decision log a batch at a time in
// (recorded time, id) order and checked by the IDecisionChecker, in the background, several jobs at once. A job
// counts what it found (unchanged, changed, defects, not checkable), its delta rate and throughput, and keeps the
// first differing decisions with their checks. Jobs live in this node's memory only: the last finished ones and every
// running one are kept, and a restart forgets them (the decisions stay in the log; start the job again).
using System.Diagnostics;
using System.Text.Json.Serialization;
using Prometheus;

namespace ContextLake.Gateway.Decisions;

/// <summary>Written as its word wherever it is serialized, so the OpenAPI document names the words too.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReconciliationState>))]
public enum ReconciliationState
{
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("done")] Done,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

/// <summary>
/// A reconciliation job as the API shows it: its range, progress (<see cref="Checked"/> of <see cref="Total"/>, the total counted when
/// it started), the counts by outcome, the delta rate (changed / (checked - not checkable), null while nothing checkable was checked),
/// decisions checked per second, and the first changed or defective decisions with their checks (<see cref="DifferingLeftOut"/> more
/// were found past the setting Decisions:ReconcileDifferingKept).
/// </summary>
public sealed record ReconciliationDoc(string Id, ReconciliationState State, DateTimeOffset From, DateTimeOffset To, DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt, long Total, long Checked, double Percent, long Unchanged, long Changed, long Defects, long NotCheckable,
    double? DeltaRate, double DecisionsPerSecond, string? Error, IReadOnlyList<DecisionCheck> Differing, long DifferingLeftOut);

/// <summary>One job: its progress, updated by the job as batches are checked and read by requests at any time.</summary>
public sealed class ReconciliationJob(string id, DateTimeOffset from, DateTimeOffset to, int differingKept)
{
    private readonly object _lock = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly List<DecisionCheck> _differing = [];
    private ReconciliationState _state = ReconciliationState.Running;
    private long _total, _checked, _unchanged, _changed, _defects, _notCheckable, _leftOut;
    private DateTimeOffset? _endedAt;
    private TimeSpan? _took;
    private string? _error;

    public string Id { get; } = id;
    public DateTimeOffset From { get; } = from;
    public DateTimeOffset To { get; } = to;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    internal CancellationToken Cancellation => _cancel.Token;

    public bool Running
    {
        get { lock (_lock) return _state == ReconciliationState.Running; }
    }

    /// <summary>Asks the job to stop and returns once it has (at its next batch, or sooner if the checker heeds cancellation).</summary>
    public async Task CancelAsync(CancellationToken cancel)
    {
        await _cancel.CancelAsync();
        await _stopped.Task.WaitAsync(cancel);
    }

    public ReconciliationDoc ToDoc()
    {
        lock (_lock)
        {
            var took = _took ?? Stopwatch.GetElapsedTime(_started);
            var percent = _total > 0 ? Math.Min(100, Math.Round(100.0 * _checked / _total, 1))
                : _state == ReconciliationState.Done ? 100 : 0;
            var checkable = _checked - _notCheckable;
            return new ReconciliationDoc(Id, _state, From, To, StartedAt, _endedAt, _total, _checked, percent, _unchanged, _changed, _defects,
                _notCheckable, checkable > 0 ? (double)_changed / checkable : null,
                took > TimeSpan.Zero ? Math.Round(_checked / took.TotalSeconds, 1) : 0, _error, [.. _differing], _leftOut);
        }
    }

    internal void Counted(long total)
    {
        lock (_lock) _total = total;
    }

    internal void Add(IReadOnlyList<DecisionCheck> checks)
    {
        lock (_lock)
        {
            foreach (var check in checks)
            {
                _checked++;
                switch (check.Outcome)
                {
                    case CheckOutcome.Unchanged: _unchanged++; break;
                    case CheckOutcome.Changed: _changed++; break;
                    case CheckOutcome.Defect: _defects++; break;
                    default: _notCheckable++; break;
                }
                if (check.Outcome is not (CheckOutcome.Changed or CheckOutcome.Defect)) continue;
                if (_differing.Count < differingKept) _differing.Add(check);
                else _leftOut++;
            }
        }
    }

    internal ReconciliationDoc End(ReconciliationState state, string? error)
    {
        lock (_lock)
        {
            _state = state;
            _error = error;
            _took = Stopwatch.GetElapsedTime(_started);
            _endedAt = StartedAt + _took;
        }
        _stopped.TrySetResult();
        return ToDoc();
    }
}

/// <summary>The node's reconciliation jobs, and the check of one decision on demand.</summary>
public sealed class Reconciliations(DecisionLog log, IDecisionChecker checker, DecisionOptions options, ILogger<Reconciliations> logger)
    : IAsyncDisposable
{
    private static readonly Counter Decisions = Metrics.CreateCounter(
        "contextlake_reconciliation_decisions_total",
        "Decisions reconciled, in jobs and one at a time, by outcome (unchanged, changed, defect, not_checkable).",
        new CounterConfiguration { LabelNames = ["outcome"] });

    private static readonly Gauge DeltaRate = Metrics.CreateGauge(
        "contextlake_reconciliation_delta_rate",
        "The delta rate of the last reconciliation job that completed: changed / (checked - not checkable); 0 when it had nothing checkable.");

    private static readonly Histogram BatchSeconds = Metrics.CreateHistogram(
        "contextlake_reconciliation_seconds", "One batch of a reconciliation job checked by the decision checker.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });

    private readonly object _lock = new();

    /// <summary>In the order they started.</summary>
    private readonly List<(ReconciliationJob Job, Task Run)> _jobs = [];

    /// <summary>Starts a job over the decisions recorded at or after <paramref name="from"/> and before <paramref name="to"/>.</summary>
    public ReconciliationJob Start(DateTimeOffset from, DateTimeOffset to)
    {
        var job = new ReconciliationJob(Guid.NewGuid().ToString("N")[..16], from, to, options.ReconcileDifferingKept);
        lock (_lock)
        {
            _jobs.Add((job, Task.Run(() => RunAsync(job))));
            Trim();
        }
        return job;
    }

    public ReconciliationJob? Find(string id)
    {
        lock (_lock) return _jobs.Find(j => j.Job.Id == id).Job;
    }

    /// <summary>The jobs kept, newest first.</summary>
    public IReadOnlyList<ReconciliationJob> Jobs
    {
        get
        {
            lock (_lock) return _jobs.Select(j => j.Job).Reverse().ToList();
        }
    }

    /// <summary>Checks one recorded decision now; null when no decision has that id.</summary>
    public async Task<DecisionCheck?> CheckOneAsync(string id, CancellationToken cancel)
    {
        if (await log.FindAsync(id, cancel) is not { } decision) return null;
        var check = InOrder([decision], await checker.CheckAsync([decision], cancel))[0];
        Observe(check);
        return check;
    }

    private async Task RunAsync(ReconciliationJob job)
    {
        var cancel = job.Cancellation;
        try
        {
            job.Counted(await log.CountAsync(job.From, job.To, cancel));
            DecisionRecord? after = null;
            while (true)
            {
                var batch = await log.ListAsync(job.From, job.To, after, options.ReconcileBatch, cancel);
                if (batch.Count == 0) break;
                var started = Stopwatch.GetTimestamp();
                var checks = InOrder(batch, await checker.CheckAsync(batch, cancel));
                BatchSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                foreach (var check in checks) Observe(check);
                job.Add(checks);
                if (batch.Count < options.ReconcileBatch) break;
                after = batch[^1];
            }
            var done = End(job, ReconciliationState.Done, null);
            DeltaRate.Set(done.DeltaRate ?? 0);
            logger.LogInformation(
                "Reconciliation {Job} ({From:O} to {To:O}) done: {Checked} decisions, {Unchanged} unchanged, {Changed} changed, {Defects} defects, " +
                "{NotCheckable} not checkable", job.Id, job.From, job.To, done.Checked, done.Unchanged, done.Changed, done.Defects, done.NotCheckable);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            End(job, ReconciliationState.Cancelled, null);
        }
        catch (Exception ex)
        {
            // Whatever broke (the log's database, the checker), the job reports it rather than dying unseen.
            End(job, ReconciliationState.Failed, ex.Message);
            logger.LogError(ex, "Reconciliation {Job} ({From:O} to {To:O}) failed", job.Id, job.From, job.To);
        }
    }

    /// <summary>Ends the job and drops the jobs past the setting at once, so no one sees it ended and still kept beyond them.</summary>
    private ReconciliationDoc End(ReconciliationJob job, ReconciliationState state, string? error)
    {
        lock (_lock)
        {
            var doc = job.End(state, error);
            Trim();
            return doc;
        }
    }

    /// <summary>The checks in the order of the decisions; a decision the checker returned no check for is the checker's fault.</summary>
    private static DecisionCheck[] InOrder(IReadOnlyList<DecisionRecord> decisions, IReadOnlyList<DecisionCheck> checks)
    {
        var byId = new Dictionary<string, DecisionCheck>(checks.Count, StringComparer.Ordinal);
        foreach (var check in checks) byId.TryAdd(check.Id, check);
        var ordered = new DecisionCheck[decisions.Count];
        for (var i = 0; i < decisions.Count; i++)
            ordered[i] = byId.TryGetValue(decisions[i].Id, out var check)
                ? check
                : throw new InvalidOperationException(
                    $"the decision checker returned no check for decision '{decisions[i].Id}' ({checks.Count} checks for {decisions.Count} decisions)");
        return ordered;
    }

    /// <summary>Counts a check; a defect is logged as a warning for each read whose replay differs from what was answered.</summary>
    private void Observe(DecisionCheck check)
    {
        Decisions.WithLabels(check.Outcome switch
        {
            CheckOutcome.Unchanged => "unchanged",
            CheckOutcome.Changed => "changed",
            CheckOutcome.Defect => "defect",
            _ => "not_checkable",
        }).Inc();
        if (check.Outcome != CheckOutcome.Defect) return;
        var off = check.Reads.Where(r => !r.ReplayMatches).ToList();
        if (off.Count == 0)
            logger.LogWarning("Reconciliation defect: decision {Decision} (epoch {Epoch}): {Problem}", check.Id, check.Epoch,
                check.Problem ?? "the checker found a defect in no read");
        foreach (var read in off)
            logger.LogWarning(
                "Reconciliation defect: decision {Decision}, read {Where} ({Read}): recomputed at epoch {Epoch} it is {Replayed}, but {Answered} was answered",
                check.Id, read.Where, read.Read, check.Epoch, read.Replayed?.GetRawText() ?? "nothing", read.Answered.GetRawText());
    }

    /// <summary>Drops the oldest finished jobs past Decisions:ReconcileJobsKept; running jobs stay (they can still be cancelled). Under the lock.</summary>
    private void Trim()
    {
        var finished = _jobs.Count(j => !j.Job.Running);
        for (var i = 0; i < _jobs.Count && finished > options.ReconcileJobsKept;)
        {
            if (_jobs[i].Job.Running)
            {
                i++;
                continue;
            }
            _jobs.RemoveAt(i);
            finished--;
        }
    }

    /// <summary>On shutdown: every running job is cancelled and awaited.</summary>
    public async ValueTask DisposeAsync()
    {
        List<(ReconciliationJob Job, Task Run)> jobs;
        lock (_lock) jobs = [.. _jobs];
        foreach (var (job, _) in jobs.Where(j => j.Job.Running)) await job.CancelAsync(CancellationToken.None);
        await Task.WhenAll(jobs.Select(j => j.Run));
    }
}
