// PostgreSQL change data capture into views, against a real server with logical replication: rows that
// existed before the connector plus inserts, updates (retracting the old row) and deletes after it;
// a two-row transaction is never seen half in any epoch; after kill -9 of the node the view equals
// SQL's GROUP BY over the source table.
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Npgsql;
using Xunit;

namespace ContextLake.Gateway.Tests.Connectors;

public sealed class CdcConnectorSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    private static readonly string[] Owners = ["o0", "o1", "o2", "o3"];
    private readonly string _slot = "cl_" + Guid.NewGuid().ToString("N")[..12];
    private PostgresTestJournal _source = null!;
    private string _sourceConnection = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _source = PostgresTestJournal.Create();
        _sourceConnection = _source.ConnectionString;
        await Sql("CREATE TABLE accounts (id text PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL)");
        for (var i = 0; i < 20; i++) await Sql($"INSERT INTO accounts VALUES ('acc{i}', '{Owners[i % 4]}', {i * 10})");
    }

    public override async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await base.DisposeAsync();
    }

    private async Task Sql(string sql)
    {
        await using var conn = new NpgsqlConnection(_sourceConnection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<Dictionary<string, (long N, decimal Total)>> Oracle()
    {
        await using var conn = new NpgsqlConnection(_sourceConnection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT owner, COUNT(*), SUM(balance) FROM accounts GROUP BY owner", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var result = new Dictionary<string, (long, decimal)>();
        while (await r.ReadAsync()) result[r.GetString(0)] = (r.GetInt64(1), r.GetDecimal(2));
        return result;
    }

    private static async Task<(Dictionary<string, (long N, decimal Total)> Values, long Epoch)> Read(NodeProcess node)
    {
        var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = Owners.Select(o => new { view = "cdc_owners", key = o }).ToArray(),
        }));
        Assert.True(status == 200, $"{status} {answer}");
        return (answer.GetProperty("results").EnumerateArray().Where(r => r.GetProperty("values").GetProperty("n").GetInt64() > 0).ToDictionary(
            r => r.GetProperty("key").GetString()!,
            r => (r.GetProperty("values").GetProperty("n").GetInt64(), r.GetProperty("values").GetProperty("total").GetDecimal())),
            answer.GetProperty("epoch").GetProperty("n").GetInt64());
    }

    private async Task AssertEventuallyEqualsOracle(NodeProcess node)
    {
        var want = await Oracle();
        var deadline = DateTime.UtcNow.AddSeconds(40);
        Dictionary<string, (long N, decimal Total)> got;
        do
        {
            got = (await Read(node)).Values;
            if (got.Count == want.Count && want.All(w => got.TryGetValue(w.Key, out var g) && g == w.Value)) return;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(want.OrderBy(w => w.Key), got.OrderBy(g => g.Key));
    }

    [Fact]
    public async Task a_table_captured_by_cdc_equals_its_sql_group_by_and_a_transaction_is_never_seen_half()
    {
        var environment = new Dictionary<string, string>(Journal.Environment) { ["ContextLake__ConnectorsFile"] = "" };
        var connector = JsonSerializer.Serialize(new
        {
            name = "core",
            config = new { type = "postgres-cdc", connectionString = _source.ConnectionString, slot = _slot, table = "accounts", entityType = "account", idField = "id" },
        });

        await using (var node = await NodeProcess.StartReadyAsync(environment))
        {
            var (viewStatus, viewBody, _) = await node.PostJson("v1/views", JsonSerializer.Serialize(new
            {
                sql = "CREATE VIEW cdc_owners AS SELECT owner, COUNT(*) AS n, SUM(balance) AS total FROM account GROUP BY owner",
            }));
            Assert.True(viewStatus == 201, $"{viewStatus} {viewBody}");
            await Bank.WaitForViewsAsync(node, "cdc_owners");
            var (created, body, _) = await node.PostJson("v1/connectors", connector);
            Assert.True(created == 201, $"{created} {body}");
            await AssertEventuallyEqualsOracle(node);

            await Sql("INSERT INTO accounts VALUES ('acc100', 'o1', 1000)");
            await Sql("UPDATE accounts SET owner = 'o3', balance = balance + 5 WHERE id = 'acc0'");
            await Sql("DELETE FROM accounts WHERE id IN ('acc4', 'acc5')");
            await AssertEventuallyEqualsOracle(node);

            // Two-row transfers between owners: every epoch shows the same grand total, never half a transaction.
            var grandTotal = (await Oracle()).Values.Sum(v => v.Total);
            var done = false;
            var reads = 0;
            var reader = Task.Run(async () =>
            {
                while (!Volatile.Read(ref done))
                {
                    var (values, _) = await Read(node);
                    Assert.Equal(grandTotal, values.Values.Sum(v => v.Total));
                    reads++;
                }
            });
            for (var t = 0; t < 30; t++)
                await Sql($"BEGIN; UPDATE accounts SET balance = balance - 7 WHERE id = 'acc{1 + t % 3}'; UPDATE accounts SET balance = balance + 7 WHERE id = 'acc{10 + t % 5}'; COMMIT;");
            await AssertEventuallyEqualsOracle(node);
            Volatile.Write(ref done, true);
            await reader;
            Assert.True(reads > 10);
            await node.KillAsync();
        }

        await Sql("UPDATE accounts SET owner = 'o0' WHERE id = 'acc7'");
        await Sql("INSERT INTO accounts VALUES ('acc200', 'o2', 2)");
        await using (var node = await NodeProcess.StartReadyAsync(environment))
        {
            await AssertEventuallyEqualsOracle(node);
            var (_, status) = await node.GetJson("v1/connectors/core/status");
            Assert.Equal("RUNNING", status.GetProperty("state").GetString());
        }
    }

    [Fact]
    public async Task a_restart_of_postgresql_loses_and_duplicates_nothing()
    {
        await using var server = await PostgresServer.StartAsync();
        _sourceConnection = server.ConnectionString;
        await Sql("CREATE TABLE accounts (id text PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL)");
        for (var i = 0; i < 10; i++) await Sql($"INSERT INTO accounts VALUES ('acc{i}', '{Owners[i % 4]}', {i})");

        var environment = new Dictionary<string, string>(Journal.Environment) { ["ContextLake__ConnectorsFile"] = "" };
        await using var node = await NodeProcess.StartReadyAsync(environment);
        Assert.Equal(201, (await node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW cdc_owners AS SELECT owner, COUNT(*) AS n, SUM(balance) AS total FROM account GROUP BY owner",
        }))).Status);
        await Bank.WaitForViewsAsync(node, "cdc_owners");
        Assert.Equal(201, (await node.PostJson("v1/connectors", JsonSerializer.Serialize(new
        {
            name = "core",
            config = new { type = "postgres-cdc", connectionString = server.ConnectionString, slot = "restart_slot", table = "accounts", entityType = "account", idField = "id" },
        }))).Status);
        await AssertEventuallyEqualsOracle(node);

        for (var i = 10; i < 30; i++) await Sql($"INSERT INTO accounts VALUES ('acc{i}', '{Owners[i % 4]}', {i})");
        await server.RestartAsync();
        await Sql("UPDATE accounts SET balance = balance * 2 WHERE owner = 'o1'");
        await Sql("DELETE FROM accounts WHERE id = 'acc3'");
        // The connector's replication connection broke with the server; it restarts and resumes from the slot.
        await AssertEventuallyEqualsOracle(node);
    }
}
