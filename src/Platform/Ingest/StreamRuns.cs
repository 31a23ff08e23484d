// The one path from a stream's events to committed state, for every source (HTTP writes, Kafka, CDC,
// files): a run of a stream's events (offset order) is split by entity partition here, on the caller's
// thread, and handed to the node's run tracker. A source may submit the next run as soon as this one is
// admitted: up to State:RunsInFlight runs of a stream are applied at once, within the node's budget of
// events in flight (State:EventsInFlight, shared by every stream), and the stream's watermark advances in
// order as they finish. A node has one StreamRuns (PlatformHosting.StreamRuns), so every source shares it.
using System.Collections.Concurrent;
using Akka.Actor;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;

namespace ContextLake.Platform.Ingest;

public sealed class StreamRuns(IActorRef tracker, IActorRef coordinator, StateOptions options)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _windows = new(StringComparer.Ordinal);

    /// <summary>The node's events admitted and not yet applied, every stream's.</summary>
    public InFlightBudget Budget { get; } = new(options.EventsInFlight);

    /// <summary>
    /// Admits a run of <paramref name="stream"/> (events in offset order, ending at <paramref name="upTo"/>; <paramref name="read"/>
    /// is how far the source has read) once fewer than State:RunsInFlight of the stream's runs are being applied and its events
    /// fit in the node's budget (State:EventsInFlight). The task it returns completes when the run is journaled and applied by
    /// every partition it touches and its watermark is reported. Callers submit a stream's runs one after another, in offset order.
    /// </summary>
    public async Task<Task<RunReport>> SubmitAsync(string stream, IReadOnlyList<IngestEvent> events, long upTo, long read, CancellationToken cancel = default) =>
        (await AdmitAsync(stream, events.Count, cancel)).Submit(events, upTo, read);

    /// <summary>
    /// Waits until a run of at most <paramref name="events"/> events of <paramref name="stream"/> may be applied, and holds that
    /// room for it: a source decodes its records only once admitted, so a stream waiting for room holds its raw records, not
    /// decoded events. The room is given back when the run is applied, or at once by <see cref="RunAdmission.Cancel"/>.
    /// </summary>
    public async Task<RunAdmission> AdmitAsync(string stream, int events, CancellationToken cancel = default)
    {
        var window = _windows.GetOrAdd(stream, _ => new SemaphoreSlim(options.RunsInFlight));
        await window.WaitAsync(cancel);
        try
        {
            await Budget.TakeAsync(events, cancel);
        }
        catch
        {
            window.Release();
            throw;
        }
        return new RunAdmission(this, stream, window, events);
    }

    /// <summary>Room held for one run of a stream (<see cref="AdmitAsync"/>): submitted once, or cancelled.</summary>
    public sealed class RunAdmission
    {
        private readonly StreamRuns _runs;
        private readonly string _stream;
        private readonly SemaphoreSlim _window;
        private long _held;

        internal RunAdmission(StreamRuns runs, string stream, SemaphoreSlim window, long held)
        {
            _runs = runs;
            _stream = stream;
            _window = window;
            _held = held;
        }

        /// <summary>Submits the run (no more events than admitted); the room not needed is given back at once.</summary>
        public Task<RunReport> Submit(IReadOnlyList<IngestEvent> events, long upTo, long read)
        {
            if (events.Count > _held) throw new InvalidOperationException($"a run of {events.Count} events was admitted for {_held}");
            var held = Interlocked.Exchange(ref _held, -1);
            if (held < 0) throw new InvalidOperationException($"this run of {_stream} was submitted or cancelled already");
            _runs.Budget.Give(held - events.Count);
            return _runs.Submit(_stream, events, upTo, read, _window);
        }

        /// <summary>Gives the room back without submitting anything.</summary>
        public void Cancel()
        {
            var held = Interlocked.Exchange(ref _held, -1);
            if (held < 0) return;
            _runs.Budget.Give(held);
            _window.Release();
        }
    }

    private Task<RunReport> Submit(string stream, IReadOnlyList<IngestEvent> events, long upTo, long read, SemaphoreSlim window)
    {
        var byPartition = new SortedDictionary<int, List<IngestEvent>>();
        DateTimeOffset? newest = null;
        foreach (var e in events)
        {
            var p = RunParts.PartitionOf(e, options.Partitions);
            if (!byPartition.TryGetValue(p, out var list)) byPartition[p] = list = new List<IngestEvent>();
            list.Add(e);
            if (newest is null || e.EventTime > newest) newest = e.EventTime;
        }
        var done = new TaskCompletionSource<RunReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var taken = events.Count;
        _ = done.Task.ContinueWith(_ =>
        {
            Budget.Give(taken);
            window.Release();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        tracker.Tell(new SubmitRun(stream, upTo, Math.Max(read, upTo),
            byPartition.Select(kv => (kv.Key, (IReadOnlyList<IngestEvent>)kv.Value)).ToList(), DateTimeOffset.UtcNow, newest, done));
        return done.Task;
    }

    /// <summary>Submits a run and waits until it is applied.</summary>
    public async Task<RunReport> ApplyAsync(string stream, IReadOnlyList<IngestEvent> events, long upTo, long read, CancellationToken cancel = default) =>
        await await SubmitAsync(stream, events, upTo, read, cancel);

    /// <summary>Tells the coordinator how far a stream has read without committing anything new.</summary>
    public void ReportRead(string stream, long committedUpTo, long read) =>
        coordinator.Tell(new ReportWatermark(stream, committedUpTo, read));
}

/// <summary>Key under which the node's run tracker is registered.</summary>
public sealed class RunTrackerKey;
