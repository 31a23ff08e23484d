// A partition's journal read from outside the partition: its rows in order, as the SQL read journal returns
// them, for reads of state older than the partitions keep in memory (an epoch past Epochs:History, or from
// before a restart) and for reconciling decisions. The rows are the system of record: every event (entity
// partitions) and every derived change (view partitions) is in exactly one of them, so folding a key's changes
// from the first row on gives its value at any epoch, whatever the snapshots. Standbys follow the rows the same way.
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Streams;
using ContextLake.Platform.Journal;

namespace ContextLake.Platform.State;

public static class PartitionJournal
{
    /// <summary>The persistence id of partition <paramref name="partitionId"/> of <paramref name="region"/>: "entity-3", "view-0".</summary>
    public static string PersistenceIdOf(string region, string partitionId) => $"{region}-{partitionId}";

    /// <summary>Every row partition <paramref name="partition"/> of <paramref name="region"/> journaled, oldest first.</summary>
    public static async IAsyncEnumerable<object> RowsAsync(ActorSystem system, string region, int partition, [EnumeratorCancellation] CancellationToken cancel)
    {
        var journal = await ReadJournal.OfAsync(system, cancel);
        var rows = journal.CurrentEventsByPersistenceId(PersistenceIdOf(region, KeyGroups.Id(partition)), 0, long.MaxValue)
            .RunAsAsyncEnumerable(system.Materializer());
        await foreach (var envelope in rows.WithCancellation(cancel))
            yield return envelope.Event;
    }

    /// <summary>
    /// At most <paramref name="max"/> rows of <paramref name="persistenceId"/> after row <paramref name="after"/>, with their row
    /// numbers: what a standby follows, and the tail a new owner reads after a standby's state.
    /// </summary>
    public static async IAsyncEnumerable<(long SeqNr, object Row)> RowsAfterAsync(ActorSystem system, string persistenceId, long after, long max,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        if (max <= 0) yield break;
        var journal = await ReadJournal.OfAsync(system, cancel);
        var rows = journal.CurrentEventsByPersistenceId(persistenceId, after + 1, after + max).RunAsAsyncEnumerable(system.Materializer());
        await foreach (var envelope in rows.WithCancellation(cancel))
            yield return (envelope.SequenceNr, envelope.Event);
    }
}
