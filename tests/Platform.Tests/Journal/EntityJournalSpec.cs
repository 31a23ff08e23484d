// One contract for the entity journal, run on SQLite and on PostgreSQL: what is journaled survives a
// restart of the actor system, a redelivered (stream, offset) changes nothing, snapshots plus the
// journal tail recover the same state, and one event costs one journal row.
using System.Data.Common;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Ingest;
using ContextLake.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace ContextLake.Platform.Tests.Journal;

public abstract class EntityJournalSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);
    private NodeOptions Options(int snapshotEvery = 1000) => new()
    {
        Journal = Journal.Options,
        Entities = { SnapshotEvery = snapshotEvery },
    };

    private static IngestEvent Ev(string stream, long offset, string type, string id, EventKind kind, string json) =>
        new(stream, offset, T0.AddSeconds(offset), type, id, kind, JsonDocument.Parse(json).RootElement.Clone());

    private static EntityWriter Writer(TestHost host) =>
        new(host.Get<EntityRegion>(), TimeSpan.FromSeconds(10), Logging.GetLogger(host.System, "test"));

    private static Task<EntityReadResult> Read(TestHost host, string type, string id) =>
        host.Get<EntityRegion>().Ask<EntityReadResult>(new GetEntity(new EntityKey(type, id)), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task journaled_events_survive_a_restart_of_the_actor_system()
    {
        var events = new List<IngestEvent>();
        for (var i = 1; i <= 300; i++)
        {
            var account = $"a{i % 30}";
            events.Add((i / 30) % 2 == 0
                ? Ev("s", i, "account", account, EventKind.Upsert, $$"""{"balance": {{i}}}""")
                : Ev("s", i, "transfer", account, EventKind.Event, $$"""{"amount": {{i}}}"""));
        }

        await using (var host = await TestHost.StartAsync(Options()))
        {
            var report = await Writer(host).WriteAsync(events);
            Assert.Equal(300, report.Persisted);
        }

        await using (var host = await TestHost.StartAsync(Options()))
        {
            for (var a = 0; a < 30; a++)
            {
                var mine = events.Where(e => e.EntityId == $"a{a}").ToList();
                var account = await Read(host, "account", $"a{a}");
                var lastBalance = mine.Where(e => e.Kind == EventKind.Upsert).Max(e => e.Offset);
                Assert.True(account.Exists);
                Assert.Equal(lastBalance, account.State["balance"].GetInt64());

                var transfers = await Read(host, "transfer", $"a{a}");
                Assert.Equal(mine.Count(e => e.Kind == EventKind.Event), transfers.EventCount);
            }
        }
    }

    [Fact]
    public async Task a_redelivered_stream_offset_changes_nothing_before_and_after_a_restart()
    {
        var events = Enumerable.Range(1, 10).Select(i => Ev("kafka:tx/0", i, "card", "c9", EventKind.Event, "{}")).ToList();
        await using (var host = await TestHost.StartAsync(Options()))
        {
            Assert.Equal((10, 0, 10), Counts(await Writer(host).WriteAsync(events)));
            // A redelivery journals nothing but returns the same row changes, for views that may have missed them.
            Assert.Equal((0, 10, 10), Counts(await Writer(host).WriteAsync(events)));
            Assert.Equal((2, 8, 10), Counts(await Writer(host).WriteAsync(
                events.Skip(2).Append(Ev("kafka:tx/0", 11, "card", "c9", EventKind.Event, "{}"))
                      .Append(Ev("kafka:tx/1", 1, "card", "c9", EventKind.Event, "{}")).ToList())));
        }

        await using (var host = await TestHost.StartAsync(Options()))
        {
            Assert.Equal((0, 10, 10), Counts(await Writer(host).WriteAsync(events)));
            var card = await Read(host, "card", "c9");
            Assert.Equal(12, card.EventCount);
            Assert.Equal(11, card.Positions["kafka:tx/0"]);
        }
        Assert.Equal(12, await JournalRows("entity-card/c9"));
    }

    [Fact]
    public async Task a_snapshot_and_the_journal_tail_recover_the_same_state()
    {
        var events = Enumerable.Range(1, 23)
            .Select(i => Ev("s", i, "merchant", "m1", i % 2 == 0 ? EventKind.Upsert : EventKind.Event, $$"""{"n{{i % 4}}": {{i}}}"""))
            .ToList();
        EntityReadResult before;
        await using (var host = await TestHost.StartAsync(Options(snapshotEvery: 5)))
        {
            await Writer(host).WriteAsync(events);
            before = await Read(host, "merchant", "m1");
        }

        Assert.True(await SnapshotRows("entity-merchant/m1") >= 1, "no snapshot was saved");
        await using (var host = await TestHost.StartAsync(Options(snapshotEvery: 5)))
        {
            var after = await Read(host, "merchant", "m1");
            Assert.Equal(JsonSerializer.Serialize(before), JsonSerializer.Serialize(after));
            Assert.Equal(12, after.EventCount);
        }
    }

    private static (int, int, int) Counts(WriteReport r) => (r.Persisted, r.Duplicates, r.Changes.Count);

    private Task<long> JournalRows(string persistenceId) => Count("journal", persistenceId, snapshots: false);

    private Task<long> SnapshotRows(string persistenceId) => Count("snapshot", persistenceId, snapshots: true);

    private async Task<long> Count(string table, string persistenceId, bool snapshots)
    {
        await using DbConnection conn = Provider == JournalProvider.Sqlite
            ? new SqliteConnection($"Data Source={Path.Combine(Journal.Options.DataDirectory, snapshots ? "snapshots.db" : "journal.db")}")
            : new NpgsqlConnection(Journal.Options.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {table} WHERE persistence_id = @p";
        var p = cmd.CreateParameter();
        p.ParameterName = "p";
        p.Value = persistenceId;
        cmd.Parameters.Add(p);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}

public sealed class SqliteEntityJournalSpec() : EntityJournalSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlEntityJournalSpec() : EntityJournalSpec(JournalProvider.PostgreSql);
