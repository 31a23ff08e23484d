// Epochs older than the in-memory history (Epochs:History), from the coordinator's journal: each epoch is one
// record under the coordinator's persistence id whose sequence number is the epoch's n (the coordinator journals
// nothing else, one epoch after another), kept for Epochs:Retention. An epoch=N read older than the history
// resolves here, on any node and after any restart, and is answered from the partitions' journals.
using Akka.Actor;
using Akka.Streams;
using ContextLake.Platform.Journal;

namespace ContextLake.Platform.Epochs;

public static class EpochHistory
{
    public const string PersistenceId = "epoch-coordinator";

    /// <summary>Epoch <paramref name="n"/> as journaled; null once Epochs:Retention removed it (or it never was).</summary>
    public static async Task<Epoch?> FindAsync(ActorSystem system, long n, CancellationToken cancel)
    {
        if (n <= 0) return null;
        var journal = await ReadJournal.OfAsync(system, cancel);
        var records = journal.CurrentEventsByPersistenceId(PersistenceId, n, n).RunAsAsyncEnumerable(system.Materializer());
        await foreach (var envelope in records.WithCancellation(cancel))
            if (envelope.Event is EpochRecorded e && e.N == n)
                return new Epoch(e.N, e.Vector, e.CommittedAt);
        return null;
    }

    /// <summary>
    /// The sequence number of the newest record, at most <paramref name="atMost"/>, committed before <paramref name="cutoff"/>
    /// (0 when none): records are read oldest first and the scan stops at the first one committed at or after the cutoff.
    /// </summary>
    public static async Task<long> LastCommittedBeforeAsync(ActorSystem system, DateTimeOffset cutoff, long atMost, CancellationToken cancel)
    {
        var journal = await ReadJournal.OfAsync(system, cancel);
        var records = journal.CurrentEventsByPersistenceId(PersistenceId, 0, atMost).RunAsAsyncEnumerable(system.Materializer());
        long last = 0;
        await foreach (var envelope in records.WithCancellation(cancel))
        {
            if (envelope.Event is not EpochRecorded e || e.CommittedAt >= cutoff) break;
            last = envelope.SequenceNr;
        }
        return last;
    }
}
