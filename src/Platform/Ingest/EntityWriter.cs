// Delivers a run of stream events to their entities: one ApplyEvents per entity, all in parallel,
// retried with capped backoff until every entity has journaled its part. Every source uses this path.
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Ingest;

public sealed record WriteReport(int Persisted, int Duplicates, IReadOnlyList<RowChange> Changes);

public sealed class EntityWriter(IActorRef entityRegion, TimeSpan askTimeout, ILoggingAdapter log)
{
    /// <summary>
    /// Completes once every event is journaled by its entity, with the row changes the events made.
    /// Events of one entity keep their order, which entities rely on to recognise redelivered offsets.
    /// </summary>
    public async Task<WriteReport> WriteAsync(IReadOnlyList<IngestEvent> events, CancellationToken cancel = default)
    {
        var byEntity = new Dictionary<EntityKey, List<IngestEvent>>();
        foreach (var e in events)
        {
            if (!byEntity.TryGetValue(e.Entity, out var list)) byEntity[e.Entity] = list = new List<IngestEvent>();
            list.Add(e);
        }

        var replies = await Task.WhenAll(byEntity.Select(kv =>
            Retry.AskAsync<EventsApplied>(entityRegion, new ApplyEvents(kv.Key, kv.Value), askTimeout, log, $"entity {kv.Key}", cancel)));
        return new WriteReport(replies.Sum(r => r.Persisted), replies.Sum(r => r.Duplicates), replies.SelectMany(r => r.Changes).ToList());
    }
}

/// <summary>Ask with retries: for deliveries that must eventually happen (the receiver deduplicates).</summary>
public static class Retry
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    public static async Task<T> AskAsync<T>(IActorRef target, object message, TimeSpan timeout, ILoggingAdapter log, string what, CancellationToken cancel)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await target.Ask<T>(message, timeout, cancel);
            }
            catch (Exception ex) when (ex is AskTimeoutException or TimeoutException && !cancel.IsCancellationRequested)
            {
                log.Warning("{0} did not confirm (attempt {1}); retrying in {2}", what, attempt, backoff);
                await Task.Delay(backoff, cancel);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
