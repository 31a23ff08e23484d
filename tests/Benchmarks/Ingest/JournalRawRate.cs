// The journal's raw rate: the events an entity would journal, persisted with PersistAll by bare persistent
// actors on a fresh journal of the suite's kind configured exactly as a node configures it (same plugin, serializer, WAL),
// with nothing else running. What ingest can at most reach per journal row.
using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Persistence;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;

namespace ContextLake.Benchmarks.Ingest;

public sealed record RawRate(int Actors, int EventsPerActor, double Seconds)
{
    public double EventsPerSecond => Actors * EventsPerActor / Seconds;

    public const int Concurrency = 100;
}

public static class JournalRawRate
{
    public static async Task<RawRate> MeasureAsync(bool quick)
    {
        int actors = quick ? 100 : 1_000, perActor = quick ? 10 : 20;
        await using var database = ContextLake.Testing.TestJournal.Create(Benchmarks.Support.Bench.Journal);
        try
        {
            var journal = new JournalDatabase(database.Options);
            journal.Prepare();
            var config = journal.ToHocon()
                .WithFallback(PlatformHosting.DefaultConfig)
                .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
            using var system = ActorSystem.Create("raw-journal", config);
            // Warm the plugin (table creation, connection) before the clock starts.
            await Persist(system, "warm", 1, 1);
            var clock = Stopwatch.StartNew();
            // At most 100 writers at a time: thousands of concurrent PersistAll calls only queue on the one SQLite
            // writer until the journal's circuit breaker times them out; a node's entities never all write at once.
            using var inFlight = new SemaphoreSlim(RawRate.Concurrency);
            await Task.WhenAll(Enumerable.Range(0, actors).Select(async a =>
            {
                await inFlight.WaitAsync();
                try { await Persist(system, $"a{a}", perActor, a); }
                finally { inFlight.Release(); }
            })).WaitAsync(TimeSpan.FromMinutes(5));
            var seconds = clock.Elapsed.TotalSeconds;
            await system.Terminate();
            return new RawRate(actors, perActor, seconds);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Npgsql.NpgsqlConnection.ClearAllPools();
        }
    }

    private static Task Persist(ActorSystem system, string id, int events, int seed)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new RawWriter(id, events, seed, done)));
        return done.Task;
    }

    private sealed class RawWriter : ReceivePersistentActor
    {
        public RawWriter(string id, int events, int seed, TaskCompletionSource done)
        {
            PersistenceId = "raw-" + id;
            Done = done;
            var random = new Random(seed);
            var batch = Enumerable.Range(0, events).Select(i => new IngestEvent("http:writes", seed * 1000L + i, DateTimeOffset.UtcNow,
                "transfer", $"t{seed}-{i}", EventKind.Event,
                JsonSerializer.SerializeToElement(new { from_account = $"a{random.Next(10)}", to_account = $"a{random.Next(10)}", amount = random.Next(1, 1000) }))).ToList();
            var persisted = 0;
            Recover<IngestEvent>(_ => { });
            Command<string>(_ => PersistAll(batch, _ =>
            {
                if (++persisted == events)
                {
                    done.TrySetResult();
                    Context.Stop(Self);
                }
            }));
            Self.Tell("go");
        }

        public override string PersistenceId { get; }

        private TaskCompletionSource Done { get; init; } = null!;

        protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
        {
            Done.TrySetException(new InvalidOperationException($"the raw journal write of {PersistenceId} failed: {cause.Message}", cause));
            base.OnPersistFailure(cause, @event, sequenceNr);
        }

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
        {
            Done.TrySetException(new InvalidOperationException($"the raw journal write of {PersistenceId} was rejected: {cause.Message}", cause));
            base.OnPersistRejected(cause, @event, sequenceNr);
        }
    }
}
