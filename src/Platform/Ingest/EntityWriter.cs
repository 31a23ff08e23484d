// Delivers a run of stream events to their entities: one ApplyEvents per entity, all in parallel,
// retried with capped backoff until every entity has journaled its part. Every source uses this path.
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Ingest;

public sealed record WriteReport(int Persisted, int Duplicates);

public sealed class EntityWriter(IActorRef entityRegion, TimeSpan askTimeout, ILoggingAdapter log)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Completes once every event is journaled by its entity. Events of one entity keep their order,
    /// which entities rely on to recognise redelivered offsets.
    /// </summary>
    public async Task<WriteReport> WriteAsync(IReadOnlyList<IngestEvent> events, CancellationToken cancel = default)
    {
        var byEntity = new Dictionary<EntityKey, List<IngestEvent>>();
        foreach (var e in events)
        {
            if (!byEntity.TryGetValue(e.Entity, out var list)) byEntity[e.Entity] = list = new List<IngestEvent>();
            list.Add(e);
        }

        var replies = await Task.WhenAll(byEntity.Select(kv => ApplyWithRetry(new ApplyEvents(kv.Key, kv.Value), cancel)));
        return new WriteReport(replies.Sum(r => r.Persisted), replies.Sum(r => r.Duplicates));
    }

    private async Task<EventsApplied> ApplyWithRetry(ApplyEvents cmd, CancellationToken cancel)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await entityRegion.Ask<EventsApplied>(cmd, askTimeout, cancel);
            }
            catch (Exception ex) when (ex is AskTimeoutException or TimeoutException && !cancel.IsCancellationRequested)
            {
                log.Warning("entity {0} did not confirm {1} events (attempt {2}); retrying in {3}",
                    cmd.Key, cmd.Events.Count, attempt, backoff);
                await Task.Delay(backoff, cancel);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
