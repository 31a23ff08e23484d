// The backfill of one projection from one entity partition: its journal rows before the projection
// joined are replayed in order (entity values rebuilt from nothing, for the projection's source type only),
// their row changes projected, and the changes sent to the downstream partitions as a chain of their own,
// "backfill:{projection}", one batch at a time per target. Batches are cut at the same places on every
// run, so a backfill started again after a crash is deduplicated exactly by the receivers.
using Akka.Actor;
using Akka.Streams;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

internal sealed class EntityBackfill(
    ActorSystem system, string persistenceId, int partition, ProjectionState state, IProjection projection, IProjections projections, StateOptions options)
{
    private sealed class Buffer
    {
        public List<IDownstreamChange> Changes { get; } = new();
        public int Bytes { get; set; }
        public long Sent { get; set; }
    }

    private sealed class Sink(Dictionary<DownstreamTarget, Buffer> buffers) : IProjectionSink
    {
        public void Add(DownstreamTarget target, IDownstreamChange change)
        {
            if (!buffers.TryGetValue(target, out var b)) buffers[target] = b = new Buffer();
            b.Changes.Add(change);
            b.Bytes += change.EstimatedBytes;
        }

        public void Changed(string key)
        {
        }
    }

    public string Channel => "backfill:" + state.Spec.Id;

    /// <summary>Replays the rows before the projection joined and delivers their changes; returns how many events it replayed.</summary>
    public async Task<long> RunAsync(CancellationToken cancel)
    {
        var journal = await ReadJournal.OfAsync(system, cancel);
        var values = new Dictionary<string, EntityValue>(StringComparer.Ordinal);
        var buffers = new Dictionary<DownstreamTarget, Buffer>();
        var sink = new Sink(buffers);
        long events = 0;
        if (state.Since > 1)
        {
            var rows = journal.CurrentEventsByPersistenceId(persistenceId, 1, state.Since - 1).RunAsAsyncEnumerable(system.Materializer());
            await foreach (var envelope in rows.WithCancellation(cancel))
            {
                if (envelope.Event is not EntityRunRow row) continue;
                foreach (var e in row.Events)
                {
                    if (!string.Equals(e.EntityType, state.Spec.Source, StringComparison.Ordinal)) continue;
                    var key = e.Address;
                    values[key] = RowChanges.Apply(values.GetValueOrDefault(key), e, out var change);
                    events++;
                    if (change is null) continue;
                    projection.Project(change, sink);
                    foreach (var (target, buffer) in buffers)
                        if (buffer.Bytes >= options.MessageBytes) await SendAsync(target, buffer, cancel);
                }
            }
        }
        foreach (var (target, buffer) in buffers.OrderBy(b => b.Key.ToString(), StringComparer.Ordinal))
            if (buffer.Changes.Count > 0) await SendAsync(target, buffer, cancel);
        return events;
    }

    private async Task SendAsync(DownstreamTarget target, Buffer buffer, CancellationToken cancel)
    {
        var batch = projections.Batch(target, Channel, partition, buffer.Sent, buffer.Sent + 1, buffer.Changes.ToList());
        await Retries.AskAsync<DownstreamApplied>(projections.Region(target.Region), batch, options.RetryAfter, system.Log,
            $"backfill of {state.Spec.Id} to {target}", cancel);
        buffer.Sent++;
        buffer.Changes.Clear();
        buffer.Bytes = 0;
    }
}
