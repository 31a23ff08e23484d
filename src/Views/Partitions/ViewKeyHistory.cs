// View keys recomputed from their partitions' journal rows: the derived changes of the keys asked, collected in
// one pass over each view partition's rows (each with the entity partition it came from), for the caller to fold
// with the cut it needs. At an epoch, the changes whose source event the epoch's vector covers give the value a
// read at that epoch answered. By event time, the changes whose source event happened at or before a moment
// give the key as the events then known by their own clocks made it, late arrivals included: exact for views
// over events (windows, counts, sums of what happened), and for views over upserted rows the changes as the
// engine derived them in arrival order (an upsert that lost to a newer one derived nothing).
using Akka.Actor;
using ContextLake.Platform.State;

namespace ContextLake.Views.Partitions;

public static class ViewKeyHistory
{
    /// <summary>A journaled change of a view key and the entity partition that derived it (where its source event is journaled).</summary>
    public readonly record struct SourcedDelta(KeyDelta Delta, int Source);

    /// <summary>The journaled changes of each of <paramref name="addresses"/> (all in <paramref name="partition"/>), in journal order.</summary>
    public static async Task<Dictionary<string, List<SourcedDelta>>> DeltasOfAsync(ActorSystem system, int partition, IEnumerable<string> addresses,
        CancellationToken cancel)
    {
        var deltas = addresses.Distinct(StringComparer.Ordinal).ToDictionary(a => a, _ => new List<SourcedDelta>(), StringComparer.Ordinal);
        await foreach (var row in PartitionJournal.RowsAsync(system, ViewRegion.TypeName, partition, cancel))
        {
            if (row is not ViewPartitionRow view) continue;
            foreach (var part in view.Parts)
            foreach (var change in part.Changes)
                if (deltas.TryGetValue(change.AddressText, out var list)) list.Add(new SourcedDelta(change, part.Source));
        }
        return deltas;
    }
}
