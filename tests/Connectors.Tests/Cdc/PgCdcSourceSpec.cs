// PgCdcSource against a real PostgreSQL 15: the snapshot hands over to the stream without gap or duplicate,
// transactions arrive whole and in commit order with before images, and a restart resumes exactly after
// the last acknowledged LSN, redelivering whatever was not acknowledged.
using System.Text.Json;
using Akka.Streams;
using Akka.Streams.Dsl;
using ContextLake.Connectors.Cdc;
using Xunit;

namespace ContextLake.Connectors.Tests.Cdc;

public sealed class PgCdcSourceSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private const string AccountsTable =
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, active boolean NOT NULL, opened timestamptz, note text)";

    private CdcDatabase _db = null!;

    public async Task InitializeAsync() => _db = await CdcDatabase.CreateAsync();

    async Task IAsyncLifetime.DisposeAsync() => await _db.DisposeAsync();

    private sealed class Running(ICdcControl control, ISinkQueue<CdcTransaction> queue)
    {
        public ICdcControl Control => control;

        public async Task<CdcTransaction> NextAsync()
        {
            var next = await queue.PullAsync().WaitAsync(Timeout);
            return next.HasValue ? next.Value : throw new InvalidOperationException("the CDC stream completed");
        }

        /// <summary>Stops the source and checks the stream completes rather than fails.</summary>
        public async Task StopAsync()
        {
            await control.StopAsync().WaitAsync(Timeout);
            Assert.False((await queue.PullAsync().WaitAsync(Timeout)).HasValue);
        }
    }

    private Running Start(CdcSettings settings)
    {
        var (control, queue) = PgCdcSource.Create(settings)
            .ToMaterialized(Sink.Queue<CdcTransaction>(), Keep.Both)
            .Run(Sys.Materializer());
        return new Running(control, queue);
    }

    private static int Id(CdcChange change) => (change.After ?? change.Before)!["id"].GetInt32();

    [Fact]
    public async Task rows_that_existed_before_the_source_started_arrive_first_as_one_snapshot_transaction_then_later_changes_in_commit_order()
    {
        await _db.ExecuteAsync(AccountsTable);
        await _db.ExecuteAsync("""
            INSERT INTO accounts VALUES
              (1, 'ann', 10.50, true, '2024-01-02 03:04:05.123+00', NULL),
              (2, 'bob', 20, false, '2024-02-03 04:05:06+02', 'vip'),
              (3, 'cy', 0, true, NULL, NULL)
            """);
        var slot = CdcDatabase.NewSlotName();
        var source = Start(_db.Settings(slot, "accounts"));

        var snapshot = await source.NextAsync();
        Assert.Equal([1, 2, 3], snapshot.Changes.Select(Id).Order());
        Assert.All(snapshot.Changes, c =>
        {
            Assert.Equal(("public.accounts", CdcChangeKind.Insert), (c.Table, c.Kind));
            Assert.Null(c.Before);
        });
        var ann = snapshot.Changes.Single(c => Id(c) == 1).After!;
        Assert.Equal(JsonValueKind.Number, ann["id"].ValueKind);
        Assert.Equal("ann", ann["owner"].GetString());
        Assert.Equal("10.50", ann["balance"].GetRawText());
        Assert.True(ann["active"].GetBoolean());
        Assert.Equal("2024-01-02T03:04:05.123+00:00", ann["opened"].GetString());
        Assert.Equal(JsonValueKind.Null, ann["note"].ValueKind);
        Assert.Equal("2024-02-03T02:05:06+00:00", snapshot.Changes.Single(c => Id(c) == 2).After!["opened"].GetString());

        await _db.ExecuteAsync("INSERT INTO accounts VALUES (4, 'dee', 5.25, true, '2024-03-01 00:00:00+00', NULL)");
        await _db.ExecuteAsync("UPDATE accounts SET balance = 11 WHERE id = 1");
        await _db.ExecuteAsync("DELETE FROM accounts WHERE id = 2");

        var inserted = await source.NextAsync();
        var updated = await source.NextAsync();
        var deleted = await source.NextAsync();
        Assert.True(snapshot.Lsn < inserted.Lsn && inserted.Lsn < updated.Lsn && updated.Lsn < deleted.Lsn);

        var insert = Assert.Single(inserted.Changes);
        Assert.Equal((CdcChangeKind.Insert, 4), (insert.Kind, Id(insert)));
        Assert.Null(insert.Before);
        Assert.Equal("5.25", insert.After!["balance"].GetRawText());
        Assert.Equal("2024-03-01T00:00:00+00:00", insert.After["opened"].GetString());

        var update = Assert.Single(updated.Changes);
        Assert.Equal(CdcChangeKind.Update, update.Kind);
        Assert.Equal("10.50", update.Before!["balance"].GetRawText());
        Assert.Equal("11.00", update.After!["balance"].GetRawText());

        var delete = Assert.Single(deleted.Changes);
        Assert.Equal(CdcChangeKind.Delete, delete.Kind);
        Assert.Null(delete.After);
        Assert.Equal("bob", delete.Before!["owner"].GetString());
        Assert.Equal("vip", delete.Before["note"].GetString());

        await source.StopAsync();
    }

    [Fact]
    public async Task rows_written_while_the_snapshot_is_taken_arrive_exactly_once_in_the_snapshot_or_the_stream()
    {
        await _db.ExecuteAsync("CREATE TABLE events (id int PRIMARY KEY)");
        await _db.ExecuteAsync("INSERT INTO events SELECT generate_series(1, 20)");
        var source = Start(_db.Settings(CdcDatabase.NewSlotName(), "public.events"));

        // Commits race the slot's creation and the snapshot copy.
        const int total = 300;
        var writer = Task.Run(async () =>
        {
            for (var id = 21; id <= total; id++) await _db.ExecuteAsync($"INSERT INTO events VALUES ({id})");
        });

        var seen = new List<int>();
        var snapshot = await source.NextAsync();
        seen.AddRange(snapshot.Changes.Select(Id));
        var last = snapshot.Lsn;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (seen.Count < total && DateTime.UtcNow < deadline)
        {
            var tx = await source.NextAsync();
            Assert.True(tx.Lsn > last);
            last = tx.Lsn;
            seen.AddRange(tx.Changes.Select(Id));
        }
        await writer;

        Assert.Equal(Enumerable.Range(1, total), seen.Order());
        await source.StopAsync();
    }

    [Fact]
    public async Task a_multi_row_transaction_arrives_as_one_transaction_with_all_its_changes()
    {
        await _db.ExecuteAsync(AccountsTable);
        var source = Start(_db.Settings(CdcDatabase.NewSlotName(), "accounts"));
        Assert.Empty((await source.NextAsync()).Changes);

        await _db.ExecuteAsync("INSERT INTO accounts VALUES (1, 'a', 1, true, NULL, NULL)");
        await _db.ExecuteAsync("""
            BEGIN;
            INSERT INTO accounts SELECT i, 'o' || i, i, true, NULL, NULL FROM generate_series(100, 139) i;
            UPDATE accounts SET note = 'touched' WHERE id = 1;
            DELETE FROM accounts WHERE id = 100;
            COMMIT;
            """);
        await _db.ExecuteAsync("INSERT INTO accounts VALUES (2, 'b', 2, true, NULL, NULL)");

        var before = await source.NextAsync();
        var big = await source.NextAsync();
        var after = await source.NextAsync();

        Assert.Equal([1], before.Changes.Select(Id));
        Assert.Equal(42, big.Changes.Count);
        Assert.Equal(Enumerable.Range(100, 40), big.Changes.Take(40).Select(Id));
        Assert.All(big.Changes.Take(40), c => Assert.Equal(CdcChangeKind.Insert, c.Kind));
        Assert.Equal((CdcChangeKind.Update, 1, "touched"), (big.Changes[40].Kind, Id(big.Changes[40]), big.Changes[40].After!["note"].GetString()));
        Assert.Equal((CdcChangeKind.Delete, 100), (big.Changes[41].Kind, Id(big.Changes[41])));
        Assert.Equal([2], after.Changes.Select(Id));
        Assert.True(before.Lsn < big.Lsn && big.Lsn < after.Lsn);

        await source.StopAsync();
    }

    [Fact]
    public async Task a_restart_resumes_right_after_the_acknowledged_lsn_without_gap_duplicate_or_second_snapshot()
    {
        await _db.ExecuteAsync(AccountsTable);
        await _db.ExecuteAsync("INSERT INTO accounts VALUES (1, 'seed', 1, true, NULL, NULL)");
        var slot = CdcDatabase.NewSlotName();
        var settings = _db.Settings(slot, "accounts");

        var first = Start(settings);
        var snapshot = await first.NextAsync();
        Assert.Equal([1], snapshot.Changes.Select(Id));
        for (var id = 10; id <= 12; id++)
            await _db.ExecuteAsync($"INSERT INTO accounts VALUES ({id}, 'x', 1, true, NULL, NULL)");
        var t10 = await first.NextAsync();
        var t11 = await first.NextAsync();
        var t12 = await first.NextAsync();
        Assert.Equal([10, 11, 12], new[] { t10, t11, t12 }.Select(t => Id(t.Changes.Single())));

        first.Control.Acknowledge(t11.Lsn);
        first.Control.Acknowledge(t10.Lsn); // late and lower: ignored
        await first.StopAsync();
        await _db.WaitUntilSlotInactiveAsync(slot);
        // The slot moved exactly as far as acknowledged: not to what was merely received.
        Assert.Equal(t11.Lsn, await _db.ConfirmedFlushAsync(slot));

        await _db.ExecuteAsync("INSERT INTO accounts VALUES (13, 'x', 1, true, NULL, NULL)");
        await _db.ExecuteAsync("UPDATE accounts SET owner = 'y' WHERE id = 10");

        var second = Start(settings);
        var again12 = await second.NextAsync();
        Assert.Equal((t12.Lsn, 12), (again12.Lsn, Id(again12.Changes.Single())));
        var t13 = await second.NextAsync();
        Assert.Equal((CdcChangeKind.Insert, 13), (t13.Changes.Single().Kind, Id(t13.Changes.Single())));
        var u10 = await second.NextAsync();
        Assert.Equal((CdcChangeKind.Update, 10), (u10.Changes.Single().Kind, Id(u10.Changes.Single())));
        Assert.True(t12.Lsn < t13.Lsn && t13.Lsn < u10.Lsn);

        await second.StopAsync();
    }

    [Fact]
    public async Task unacknowledged_transactions_are_redelivered_after_a_restart()
    {
        await _db.ExecuteAsync(AccountsTable);
        var slot = CdcDatabase.NewSlotName();
        var settings = _db.Settings(slot, "accounts");

        var first = Start(settings);
        var snapshot = await first.NextAsync();
        first.Control.Acknowledge(snapshot.Lsn);
        await _db.ExecuteAsync("INSERT INTO accounts VALUES (1, 'a', 1, true, NULL, NULL)");
        await _db.ExecuteAsync("BEGIN; INSERT INTO accounts VALUES (2, 'b', 2, true, NULL, NULL); INSERT INTO accounts VALUES (3, 'c', 3, true, NULL, NULL); COMMIT");
        await _db.ExecuteAsync("DELETE FROM accounts WHERE id = 1");
        var delivered = new[] { await first.NextAsync(), await first.NextAsync(), await first.NextAsync() };
        await first.StopAsync();
        await _db.WaitUntilSlotInactiveAsync(slot);
        Assert.Equal(snapshot.Lsn, await _db.ConfirmedFlushAsync(slot));

        var second = Start(settings);
        var redelivered = new[] { await second.NextAsync(), await second.NextAsync(), await second.NextAsync() };
        Assert.Equal(delivered.Select(t => t.Lsn), redelivered.Select(t => t.Lsn));
        Assert.Equal(
            delivered.Select(t => string.Join(",", t.Changes.Select(c => $"{c.Kind}:{Id(c)}"))),
            redelivered.Select(t => string.Join(",", t.Changes.Select(c => $"{c.Kind}:{Id(c)}"))));
        Assert.Equal("Insert:2,Insert:3", string.Join(",", redelivered[1].Changes.Select(c => $"{c.Kind}:{Id(c)}")));

        await second.StopAsync();
    }

    [Fact]
    public async Task an_update_carries_the_old_row_in_before()
    {
        // No primary key at all: REPLICA IDENTITY FULL, set by the source, is what provides the old row.
        await _db.ExecuteAsync("CREATE SCHEMA shop");
        await _db.ExecuteAsync("CREATE TABLE shop.items (id bigint, name text, price double precision, tags text[], added timestamp)");
        await _db.ExecuteAsync("INSERT INTO shop.items VALUES (7, 'lamp', 19.5, '{a,b}', '2024-05-06 07:08:09.5')");
        var source = Start(_db.Settings(CdcDatabase.NewSlotName(), "shop.items"));
        await source.NextAsync();
        Assert.Equal("f", (await _db.ScalarAsync("SELECT relreplident::text FROM pg_class WHERE oid = 'shop.items'::regclass"))?.ToString());

        await _db.ExecuteAsync("UPDATE shop.items SET name = 'desk lamp', price = 24 WHERE id = 7");

        var change = Assert.Single((await source.NextAsync()).Changes);
        Assert.Equal(("shop.items", CdcChangeKind.Update), (change.Table, change.Kind));
        Assert.Equal("lamp", change.Before!["name"].GetString());
        Assert.Equal(19.5, change.Before["price"].GetDouble());
        Assert.Equal("{a,b}", change.Before["tags"].GetString());
        Assert.Equal("2024-05-06T07:08:09.5", change.Before["added"].GetString());
        Assert.Equal(7, change.Before["id"].GetInt64());
        Assert.Equal("desk lamp", change.After!["name"].GetString());
        Assert.Equal(24, change.After["price"].GetDouble());
        Assert.Equal("{a,b}", change.After["tags"].GetString());

        await source.StopAsync();
    }

    [Fact]
    public async Task an_existing_publication_that_lacks_a_table_fails_the_stream_instead_of_silently_missing_its_changes()
    {
        await _db.ExecuteAsync("CREATE TABLE a (id int PRIMARY KEY)");
        await _db.ExecuteAsync("CREATE TABLE b (id int PRIMARY KEY)");
        await _db.ExecuteAsync("CREATE PUBLICATION cl_pub FOR TABLE a");
        var slot = CdcDatabase.NewSlotName();

        var source = Start(_db.Settings(slot, "a", "b"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(source.NextAsync);
        Assert.Contains("public.b", error.Message);
        Assert.Null(await _db.ScalarAsync($"SELECT slot_name FROM pg_replication_slots WHERE slot_name = '{slot}'"));
    }

    [Fact]
    public void settings_with_a_slot_name_that_would_need_quoting_are_rejected_before_anything_runs()
    {
        Assert.Throws<ArgumentException>(() => PgCdcSource.Create(new CdcSettings("Host=x", "Bad-Slot", "pub", ["t"])));
        Assert.Throws<ArgumentException>(() => PgCdcSource.Create(new CdcSettings("Host=x", "slot", "pub", [])));
    }
}
