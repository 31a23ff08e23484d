// Decisions checked against the journal, on SQLite and PostgreSQL, as a client does it: an epoch from before a
// kill -9 reads from the journal what was answered at it; every decision made under the bank workload replays
// exactly; a decision made over the Redis protocol is checked key by key; and the effective state of a decision (every event whose event time is at or before its read time, late
// arrivals included) equals what SQL computes over exactly those events.
using System.Globalization;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Microsoft.Data.Sqlite;
using StackExchange.Redis;
using Xunit;

namespace ContextLake.Gateway.Tests.Decisions;

public abstract class DecisionJournalSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static string Transfer(string from, string to, int amount, DateTimeOffset time) => NodeClient.Events(new
    {
        type = "transfer", id = Guid.NewGuid().ToString("N"), time = time.UtcDateTime.ToString("O"),
        data = new { from_account = from, to_account = to, amount },
    });

    /// <summary>Writes and answers where the batch ended, STREAM@LAST.</summary>
    private static async Task<string> Write(NodeProcess node, string events)
    {
        var (status, body, _) = await node.PostJson("v1/events", events);
        Assert.True(status == 200, $"{status} {body}");
        return NodeClient.Position(body);
    }

    private static async Task<JsonElement> Reconcile(NodeProcess node, string id)
    {
        var (status, check, _) = await node.PostJson($"v1/decisions/{id}/reconcile", "{}");
        Assert.True(status == 200, $"reconciling {id} answered {status}: {check}");
        return check;
    }

    [Fact]
    public async Task an_epoch_from_before_a_kill_reads_from_the_journal_what_was_answered_at_it()
    {
        var reads = new object[] { new { view = "credits", key = "k1" }, new { view = "debits", key = "bank" }, new { entity = "transfer/k-first" } };
        JsonElement answered;
        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            await Bank.WaitForViewsAsync(node);
            await Write(node, NodeClient.Events(new { type = "transfer", id = "k-first", data = new { from_account = "bank", to_account = "k1", amount = 40 } }));
            var last = await Write(node, Transfer("bank", "k1", 2, DateTimeOffset.UtcNow));
            var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { decision = "before-kill", after = last, reads }));
            Assert.True(status == 200, $"{status} {answer}");
            answered = answer.Clone();
            await Write(node, Transfer("bank", "k1", 5, DateTimeOffset.UtcNow));
            await node.KillAsync();
        }

        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            var epoch = answered.GetProperty("epoch").GetProperty("n").GetInt64();
            var (status, past, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { epoch, reads }));
            Assert.True(status == 200, $"epoch {epoch} after kill -9: {status} {past}");
            Assert.Equal("journal", past.GetProperty("epoch").GetProperty("served").GetString());
            Assert.Equal(answered.GetProperty("epoch").GetProperty("vector").GetRawText(), past.GetProperty("epoch").GetProperty("vector").GetRawText());
            Assert.Equal(answered.GetProperty("results").GetRawText(), past.GetProperty("results").GetRawText());
            Assert.Equal(42m, past.GetProperty("results")[0].GetProperty("values").GetProperty("total").GetDecimal());

            var check = await Reconcile(node, "before-kill");
            Assert.Equal("unchanged", check.GetProperty("outcome").GetString());
            Assert.All(check.GetProperty("reads").EnumerateArray(), r => Assert.True(r.GetProperty("replayMatches").GetBoolean(), r.ToString()));
        }
    }

    [Fact]
    public async Task every_decision_made_under_the_bank_workload_replays_exactly_at_its_epoch()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment);
        await Bank.WaitForViewsAsync(node);
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var writersDone = false;
        var writing = Bank.WriteAsync(node, seed: 5);
        var made = 0;
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var mine = 0;
            while (!Volatile.Read(ref writersDone) || mine < 500)
            {
                var body = JsonSerializer.Serialize(new
                {
                    decision = $"bank-{r}-{mine}",
                    reads = JsonDocument.Parse(Bank.ReadAllAccounts()).RootElement.GetProperty("reads"),
                });
                var (status, answer, _) = await node.PostJson("v1/read", body);
                Assert.True(status == 200, $"decision read answered {status}: {answer}");
                Assert.Equal(0m, Bank.Balance(answer));
                mine++;
                Interlocked.Increment(ref made);
            }
        })).ToList();
        await writing;
        Volatile.Write(ref writersDone, true);
        await Task.WhenAll(readers);
        Assert.True(made >= 2000, $"{made} decisions");

        var (started, job, _) = await node.PostJson("v1/reconciliations",
            JsonSerializer.Serialize(new { from, to = DateTimeOffset.UtcNow.AddSeconds(1) }));
        Assert.True(started == 202, $"{started} {job}");
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (job.GetProperty("state").GetString() == "running" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            (_, job) = await node.GetJson($"v1/reconciliations/{job.GetProperty("id").GetString()}");
        }
        Assert.True(job.GetProperty("state").GetString() == "done", job.ToString());
        Assert.Equal(made, job.GetProperty("checked").GetInt64());
        Assert.True(job.GetProperty("defects").GetInt64() == 0, $"decisions whose replay differs from their answer: {job}");
        Assert.Equal(0, job.GetProperty("notCheckable").GetInt64());
    }

    [Fact]
    public async Task a_decision_made_over_the_redis_protocol_is_reconciled_key_by_key()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment);
        await Bank.WaitForViewsAsync(node);
        var last = await Write(node, Transfer("bank", "rk1", 7, DateTimeOffset.UtcNow.AddMinutes(-5)));
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{node.RespEndpoint},connectTimeout=10000");
        var db = redis.GetDatabase();
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.AFTER", last)).ToString());
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.DECISION", "resp-rec-1")).ToString());
        var values = await db.StringGetAsync(["view:credits:rk1", "view:debits:rk-never", "entity:transfer:none"]);
        Assert.Equal(7m, JsonDocument.Parse(values[0].ToString()).RootElement.GetProperty("total").GetDecimal());

        // Unchanged while nothing with an earlier event time arrives; a late transfer (event time a minute ago) changes it.
        var check = await Reconcile(node, "resp-rec-1");
        Assert.Equal("unchanged", check.GetProperty("outcome").GetString());
        Assert.Equal(["resp[1]", "resp[2]", "resp[3]"], check.GetProperty("reads").EnumerateArray().Select(r => r.GetProperty("where").GetString()));
        Assert.All(check.GetProperty("reads").EnumerateArray(), r => Assert.True(r.GetProperty("replayMatches").GetBoolean(), r.ToString()));
        await Write(node, Transfer("bank", "rk1", 3, DateTimeOffset.UtcNow.AddMinutes(-1)));
        check = await Reconcile(node, "resp-rec-1");
        Assert.Equal("changed", check.GetProperty("outcome").GetString());
        var credits = check.GetProperty("reads")[0];
        Assert.Equal(["n", "total"], credits.GetProperty("differences").EnumerateArray().Select(d => d.GetString()).Order());
        Assert.Equal(10m, credits.GetProperty("effective").GetProperty("total").GetDecimal());
    }

    [Fact]
    public async Task the_effective_state_of_a_decision_is_sql_over_the_events_at_or_before_its_read_time_late_ones_included()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment);
        await Bank.WaitForViewsAsync(node);
        await using var oracle = new SqliteConnection("Data Source=:memory:");
        await oracle.OpenAsync();
        void Exec(string sql, params (string, object)[] args)
        {
            using var cmd = oracle.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
            cmd.ExecuteNonQuery();
        }
        Exec("CREATE TABLE transfers (ticks INTEGER, from_account TEXT, to_account TEXT, amount INTEGER)");
        var random = new Random(11);
        var accounts = new[] { "e0", "e1", "e2" };
        var now = DateTimeOffset.UtcNow;

        // Event times are anywhere in the last hour, and some are ahead of the decision's read time.
        async Task WriteSome(int count, DateTimeOffset from, DateTimeOffset to)
        {
            for (var i = 0; i < count; i++)
            {
                var a = accounts[random.Next(accounts.Length)];
                var b = accounts[(Array.IndexOf(accounts, a) + 1 + random.Next(accounts.Length - 1)) % accounts.Length];
                var amount = random.Next(1, 100);
                var time = from + TimeSpan.FromMilliseconds(random.NextDouble() * (to - from).TotalMilliseconds);
                await Write(node, Transfer(a, b, amount, time));
                Exec("INSERT INTO transfers VALUES ($t, $a, $b, $m)", ("$t", time.UtcTicks), ("$a", a), ("$b", b), ("$m", amount));
            }
        }
        await WriteSome(30, now.AddHours(-1), now.AddMinutes(10));
        var reads = accounts.SelectMany(a => new object[] { new { view = "credits", key = a }, new { view = "debits", key = a } }).ToArray();
        var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { decision = "effective-1", reads }));
        Assert.True(status == 200, $"{status} {answer}");
        var readAt = answer.GetProperty("at").GetDateTimeOffset();

        // After the decision: late events (event time before its read time) and later ones.
        await WriteSome(20, now.AddHours(-1), readAt);
        await WriteSome(10, readAt.AddSeconds(1), readAt.AddMinutes(30));

        var check = await Reconcile(node, "effective-1");
        Assert.Equal("changed", check.GetProperty("outcome").GetString());
        var checks = check.GetProperty("reads").EnumerateArray().ToList();
        Assert.Equal(reads.Length, checks.Count);
        for (var i = 0; i < checks.Count; i++)
        {
            Assert.True(checks[i].GetProperty("replayMatches").GetBoolean(), $"reads[{i}] did not replay: {checks[i]}");
            var account = accounts[i / 2];
            var column = i % 2 == 0 ? "to_account" : "from_account";
            using var cmd = oracle.CreateCommand();
            cmd.CommandText = $"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM transfers WHERE {column} = $a AND ticks <= $t";
            cmd.Parameters.AddWithValue("$a", account);
            cmd.Parameters.AddWithValue("$t", readAt.UtcTicks);
            using var r = cmd.ExecuteReader();
            r.Read();
            var values = checks[i].GetProperty("effective").GetProperty("values");
            Assert.True(r.GetInt64(0) == values.GetProperty("n").GetInt64(), $"{column} {account}: SQL counts {r.GetInt64(0)}, effective {values}");
            Assert.True(r.GetInt64(1) == values.GetProperty("total").GetDecimal(), $"{column} {account}: SQL sums {r.GetInt64(1)}, effective {values}");
        }
        Assert.Contains(checks, c => c.GetProperty("differences").EnumerateArray().Any(d => d.GetString() == "values.n"));
    }
}

public sealed class SqliteDecisionJournalSpec() : DecisionJournalSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlDecisionJournalSpec() : DecisionJournalSpec(JournalProvider.PostgreSql);
