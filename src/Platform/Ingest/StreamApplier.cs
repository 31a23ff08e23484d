// The one path from a stream's events to committed state: entities journal them, the row changes go
// to every view they touch, and only then is the stream's watermark reported to the epoch coordinator.
using Akka.Actor;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Telemetry;

namespace ContextLake.Platform.Ingest;

/// <summary>Where row changes go after entities journal them (the views, wired in by the Views project).</summary>
public interface IChangeSink
{
    /// <summary>
    /// Applies the row changes of a run of <paramref name="stream"/> that ends at <paramref name="upTo"/>; called
    /// before that watermark is reported, so whatever the sink announces about the run precedes its epoch.
    /// </summary>
    Task ApplyAsync(string stream, long upTo, IReadOnlyList<RowChange> changes, CancellationToken cancel);
}

public sealed class StreamApplier(EntityWriter entities, IChangeSink views, IActorRef coordinator)
{
    /// <summary>
    /// Applies a run of one stream's events (in offset order) and reports the watermark <paramref name="upTo"/>,
    /// with <paramref name="read"/> as how far the source has read. Callers apply runs of a stream one after another.
    /// </summary>
    public async Task<WriteReport> ApplyAsync(string stream, IReadOnlyList<IngestEvent> events, long upTo, long read, CancellationToken cancel = default)
    {
        var readAt = DateTimeOffset.UtcNow;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var report = await entities.WriteAsync(events, cancel);
        var entitiesDone = System.Diagnostics.Stopwatch.GetTimestamp();
        await views.ApplyAsync(stream, upTo, report.Changes, cancel);
        Metrics.ApplySeconds.WithLabels("entities").Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started, entitiesDone).TotalSeconds);
        Metrics.ApplySeconds.WithLabels("views").Observe(System.Diagnostics.Stopwatch.GetElapsedTime(entitiesDone).TotalSeconds);
        Metrics.IngestedEvents.WithLabels(Metrics.ConnectorOf(stream), stream).Inc(report.Persisted);
        FreshnessTracker.Shared.Applied(stream, upTo, readAt, events.Count == 0 ? null : events.Max(e => e.EventTime));
        coordinator.Tell(new ReportWatermark(stream, upTo, read));
        return report;
    }

    /// <summary>Tells the coordinator how far a stream has read without committing anything new.</summary>
    public void ReportRead(string stream, long committedUpTo, long read) =>
        coordinator.Tell(new ReportWatermark(stream, committedUpTo, read));
}
