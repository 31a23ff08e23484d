// The SQL read journal that backfills replay partitions' rows through, built once per actor system. Building
// it blocks (Akka.Persistence.Sql asks its journal and waits) and it can time out while the node is still
// joining its cluster: so it is built on a thread of its own, retried until it exists, and shared, instead of
// inside the first backfills (where sixteen of them once waited on it together and starved the thread pool).
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;

namespace ContextLake.Platform.Journal;

public static class ReadJournal
{
    private static readonly ConditionalWeakTable<ActorSystem, Task<SqlReadJournal>> Journals = new();

    public static Task<SqlReadJournal> OfAsync(ActorSystem system, CancellationToken cancel) =>
        Journals.GetValue(system, s => Task.Factory.StartNew(() => Build(s), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default)).WaitAsync(cancel);

    private static SqlReadJournal Build(ActorSystem system)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            }
            catch (Exception ex) when (ex is AggregateException or AskTimeoutException && !system.WhenTerminated.IsCompleted)
            {
                system.Log.Warning("the SQL read journal is not ready yet (attempt {0}): {1}", attempt, ex.GetBaseException().Message);
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * attempt)));
            }
        }
    }
}
