// Entities recomputed from their partitions' journal rows: the events of the keys asked, collected in one pass
// over each partition's rows, for the caller to fold with whatever cut it needs. At an epoch, the events the
// epoch's vector covers give the value a read at that epoch answered (EntityValue's rules are a max over
// event versions, so the fold does not depend on the order). At a point in event time, the events whose event
// time is at or before it give the entity as it was then by the events' own clocks, late arrivals included.
using Akka.Actor;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

public static class EntityHistory
{
    /// <summary>
    /// The journaled events of each of <paramref name="addresses"/> ("type/id", all in <paramref name="partition"/>), in
    /// journal order; an address never written has an empty list.
    /// </summary>
    public static async Task<Dictionary<string, List<IngestEvent>>> EventsOfAsync(ActorSystem system, int partition,
        IEnumerable<string> addresses, CancellationToken cancel)
    {
        var events = addresses.Distinct(StringComparer.Ordinal).ToDictionary(a => a, _ => new List<IngestEvent>(), StringComparer.Ordinal);
        await foreach (var row in PartitionJournal.RowsAsync(system, EntityRegion.TypeName, partition, cancel))
        {
            if (row is not EntityRunRow run) continue;
            foreach (var e in run.Events)
                if (events.TryGetValue(e.Address, out var list)) list.Add(e);
        }
        return events;
    }

    /// <summary>
    /// The event time of each event of <paramref name="wanted"/> (stream, offset) journaled by <paramref name="partition"/>;
    /// what the view keys' changes are dated by when reconciled by event time.
    /// </summary>
    public static async Task<Dictionary<(string Stream, long Offset), DateTimeOffset>> EventTimesAsync(ActorSystem system, int partition,
        IReadOnlySet<(string Stream, long Offset)> wanted, CancellationToken cancel)
    {
        var times = new Dictionary<(string, long), DateTimeOffset>();
        if (wanted.Count == 0) return times;
        await foreach (var row in PartitionJournal.RowsAsync(system, EntityRegion.TypeName, partition, cancel))
        {
            if (row is not EntityRunRow run) continue;
            foreach (var e in run.Events)
                if (wanted.Contains((e.Stream, e.Offset))) times[(e.Stream, e.Offset)] = e.EventTime;
            if (times.Count == wanted.Count) break;
        }
        return times;
    }
}
