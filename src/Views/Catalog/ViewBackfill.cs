// Fills a newly created view from the journal: replays every entity of the view's source type through
// the same row-change function entities use live, and sends the deltas to the view actors (which drop
// what they already have). Events not replayed here were projected live with the view already known.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Views.Ingest;
using Entities = ContextLake.Platform.Entities;

namespace ContextLake.Views.Catalog;

public sealed class ViewBackfill : ReceiveActor
{
    private sealed record Done(long Total);
    private sealed record Failed(Exception Cause);

    public ViewBackfill(ViewEntry entry, ViewCatalog catalog, ViewWriter writer)
    {
        var log = Context.GetLogger();
        var parent = Context.Parent;
        var self = Self;
        Run(entry, catalog, writer, Context.System, parent).PipeTo(self, success: total => new Done(total), failure: ex => new Failed(ex));

        Receive<Done>(d =>
        {
            parent.Tell(new BackfillProgress(entry.Name, entry.Incarnation, d.Total, d.Total, Finished: true));
            Context.Stop(Self);
        });
        Receive<Failed>(f =>
        {
            log.Error(f.Cause, "backfill of view {0} failed; it restarts with the catalog", entry.Name);
            throw new InvalidOperationException($"backfill of view {entry.Name} failed", f.Cause);
        });
    }

    private static async Task<long> Run(ViewEntry entry, ViewCatalog catalog, ViewWriter writer, ActorSystem system, IActorRef parent)
    {
        // Only once this node projects with the view known may the journal be read: an event projected
        // without it was journaled before, so the scan sees it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        CatalogView? view;
        while ((view = catalog.Find(entry.Name, entry.Incarnation)) is null)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"view {entry.Name} did not reach this node's catalog");
            await Task.Delay(20);
        }

        var materializer = system.Materializer();
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var prefix = Entities.EntityActor.PersistenceIdFor(new EntityKey(view.Definition.Source, ""));
        var ids = await journal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
            .RunWith(Sink.Seq<string>(), materializer);

        long done = 0;
        foreach (var id in ids)
        {
            var state = new EntityState();
            var changes = new List<RowChange>();
            await journal.CurrentEventsByPersistenceId(id, 0, long.MaxValue)
                .RunForeach(env =>
                {
                    if (env.Event is IngestEvent e && RowChanges.Apply(state, e) is { } change) changes.Add(change);
                }, materializer);
            await writer.ApplyAsync(changes, [view], CancellationToken.None);
            Platform.Telemetry.Metrics.BackfillDone.WithLabels(entry.Name, "done").Set(++done);
            Platform.Telemetry.Metrics.BackfillDone.WithLabels(entry.Name, "total").Set(ids.Count);
            if (done % 100 == 0) parent.Tell(new BackfillProgress(entry.Name, entry.Incarnation, done, ids.Count, Finished: false));
        }
        return ids.Count;
    }
}
