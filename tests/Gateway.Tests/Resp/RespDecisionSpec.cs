// Decisions over the Redis protocol, as a Redis user makes them (StackExchange.Redis, redis-cli and raw sockets against a
// node process): CONTEXTLAKE.DECISION names the connection's next read a decision, which is answered once recorded and
// shows over HTTP (GET /v1/decisions/{id}) with the command as its request and each key's value as its answer; the same
// command again under the id, on any connection, answers the recorded values and CONTEXTLAKE.EPOCH the recorded epoch,
// however the keys have changed since; another command under the id (or an HTTP read under it) is a CONFLICT error;
// bad ids and labels are ERR naming the setting and arm nothing; the arming lasts one read and RESET clears it; a log
// that cannot record (its table renamed away under the node) answers TRYAGAIN and records nothing; and
// contextlake_decisions_total counts every outcome.
using System.Globalization;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using StackExchange.Redis;
using Xunit;

namespace ContextLake.Gateway.Tests.Resp;

public sealed class RespDecisionSpec(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private NodeProcess Node => fixture.Node;

    private Task<long> Deposit(string account, decimal amount) => Bank.DepositAsync(Node, account, amount);

    private async Task<ConnectionMultiplexer> Connect(string protocol = "resp2") =>
        await ConnectionMultiplexer.ConnectAsync($"{Node.RespEndpoint},protocol={protocol},connectTimeout=10000");

    /// <summary>contextlake_decisions_total{outcome}: decisions of every protocol, by outcome (0 before the first).</summary>
    private async Task<double> Decisions(string outcome)
    {
        var series = $"contextlake_decisions_total{{outcome=\"{outcome}\"}} ";
        var line = (await Node.Http.GetStringAsync("metrics")).Split('\n').SingleOrDefault(l => l.StartsWith(series, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[series.Length..], CultureInfo.InvariantCulture);
    }

    private static long EpochOf(RedisResult epoch) => EpochOf(epoch.ToString());

    private static long EpochOf(string epoch)
    {
        using var doc = JsonDocument.Parse(epoch);
        return doc.RootElement.GetProperty("n").GetInt64();
    }

    [Fact]
    public async Task a_read_named_a_decision_is_recorded_before_it_is_answered_and_get_v1_decisions_shows_the_command_and_each_key_answered()
    {
        await Bank.WaitForViewsAsync(Node);
        await Deposit("rd-1", 40);
        var last = await Deposit("rd-1", 2.5m);
        var recordedBefore = await Decisions("recorded");
        await using var redis = await Connect();
        var db = redis.GetDatabase();
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{last}")).ToString());
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.DECISION", "resp-auth-1", """{"merchant":"m7","rule":"velocity"}""")).ToString());
        RedisKey[] keys = ["view:credits:rd-1", "view:credits:rd-never", "view:debits:bank"];
        var values = await db.StringGetAsync(keys);
        var epoch = EpochOf(await db.ExecuteAsync("CONTEXTLAKE.EPOCH"));
        // The arming lasted one read: this one is not a decision (under the id it would be a conflict).
        Assert.Equal(values[0], await db.StringGetAsync(keys[0]));
        Assert.Equal(recordedBefore + 1, await Decisions("recorded"));

        var (status, record) = await Node.GetJson("v1/decisions/resp-auth-1");
        Assert.True(status == 200, $"{status} {record}");
        Assert.Equal("resp-auth-1", record.GetProperty("id").GetString());
        Assert.Equal(epoch, record.GetProperty("epoch").GetInt64());
        var request = record.GetProperty("request");
        Assert.Equal(["MGET", .. keys.Select(k => k.ToString())], request.GetProperty("resp").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("velocity", request.GetProperty("labels").GetProperty("rule").GetString());
        Assert.Equal($"http:writes@{last}", request.GetProperty("after")[0].GetString());
        var answer = record.GetProperty("answer");
        Assert.Equal(epoch, answer.GetProperty("epoch").GetProperty("n").GetInt64());
        Assert.Equal("resp-auth-1", answer.GetProperty("decision").GetString());
        var results = answer.GetProperty("results");
        Assert.Equal(keys.Length, results.GetArrayLength());
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(keys[i].ToString(), results[i].GetProperty("key").GetString());
            var value = results[i].GetProperty("value");
            if (values[i].IsNull) Assert.Equal(JsonValueKind.Null, value.ValueKind);
            else Assert.Equal(values[i].ToString(), value.GetRawText());
        }
        Assert.Equal(42.5m, results[0].GetProperty("value").GetProperty("total").GetDecimal());
        Assert.Equal(JsonValueKind.Null, results[1].GetProperty("value").ValueKind);
    }

    [Theory]
    [InlineData("resp2")]
    [InlineData("resp3")]
    public async Task the_same_command_again_under_its_id_answers_the_recorded_values_and_epoch_after_the_keys_changed(string protocol)
    {
        await Bank.WaitForViewsAsync(Node);
        var account = $"rp-{protocol}";
        var first = await Deposit(account, 10);
        var replayedBefore = await Decisions("replayed");
        RedisKey[] keys = [$"view:credits:{account}", $"view:credits:{account}-never"];
        RedisValue[] values;
        RedisValue[] fields;
        string epoch;
        await using (var redis = await Connect(protocol))
        {
            var db = redis.GetDatabase();
            await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{first}");
            await db.ExecuteAsync("CONTEXTLAKE.DECISION", $"{account}-mget");
            values = await db.StringGetAsync(keys);
            epoch = (await db.ExecuteAsync("CONTEXTLAKE.EPOCH")).ToString();
            await db.ExecuteAsync("CONTEXTLAKE.DECISION", $"{account}-hmget");
            fields = await db.HashGetAsync(keys[0], ["total", "n", "nope"]);
        }
        Assert.Contains("\"total\":10,", values[0].ToString());
        Assert.Equal(["10", "1", null], fields.Select(v => v.IsNull ? null : v.ToString()));

        var later = await Deposit(account, 5);
        Assert.Equal(200, (await Node.GetJson($"v1/epoch?after=http:writes@{later}")).Status);

        // A client that asks again (a retry on a new connection, with the same read settings) gets what it was answered.
        await using (var redis = await Connect(protocol))
        {
            var db = redis.GetDatabase();
            await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{first}");
            await db.ExecuteAsync("CONTEXTLAKE.DECISION", $"{account}-mget");
            Assert.Equal(values, await db.StringGetAsync(keys));
            Assert.Equal(epoch, (await db.ExecuteAsync("CONTEXTLAKE.EPOCH")).ToString());
            await db.ExecuteAsync("CONTEXTLAKE.DECISION", $"{account}-hmget");
            Assert.Equal(fields, await db.HashGetAsync(keys[0], ["total", "n", "nope"]));

            // Without a decision the same read is of now.
            Assert.Contains("\"total\":15,", (await db.StringGetAsync(keys))[0].ToString());
            Assert.True(EpochOf(await db.ExecuteAsync("CONTEXTLAKE.EPOCH")) > EpochOf(epoch));
        }
        Assert.Equal(replayedBefore + 2, await Decisions("replayed"));
    }

    [Fact]
    public async Task another_command_under_a_recorded_id_is_a_conflict_error_and_the_connection_goes_on()
    {
        await Bank.WaitForViewsAsync(Node);
        var last = await Deposit("cf-1", 3);
        var conflictsBefore = await Decisions("conflict");
        await using var redis = await Connect();
        var db = redis.GetDatabase();
        await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{last}");
        await db.ExecuteAsync("CONTEXTLAKE.DECISION", "resp-cf-1");
        Assert.Contains("\"total\":3,", (await db.StringGetAsync("view:credits:cf-1")).ToString());

        await db.ExecuteAsync("CONTEXTLAKE.DECISION", "resp-cf-1");
        var other = await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync(["view:credits:cf-1", "view:debits:cf-1"]));
        Assert.StartsWith("CONFLICT decision 'resp-cf-1' was recorded at ", other.Message);
        Assert.Contains("with another request", other.Message);
        Assert.Contains("GET /v1/decisions/resp-cf-1", other.Message);
        // The read point is part of the request.
        await db.ExecuteAsync("CONTEXTLAKE.CONSISTENCY", "stale-ok");
        await db.ExecuteAsync("CONTEXTLAKE.DECISION", "resp-cf-1");
        Assert.StartsWith("CONFLICT", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync("view:credits:cf-1"))).Message);

        // One id names one request whichever protocol asks: HTTP under a RESP decision's id is a 409, and the other way round.
        var (status, problem, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            decision = "resp-cf-1", reads = new object[] { new { view = "credits", key = "cf-1" } },
        }));
        Assert.True(status == 409, $"{status} {problem}");
        var (httpStatus, _, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            decision = "http-cf-1", reads = new object[] { new { view = "credits", key = "cf-1" } },
        }));
        Assert.Equal(200, httpStatus);
        await db.ExecuteAsync("CONTEXTLAKE.DECISION", "http-cf-1");
        Assert.StartsWith("CONFLICT decision 'http-cf-1'", (await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync("view:credits:cf-1"))).Message);

        Assert.Equal(conflictsBefore + 4, await Decisions("conflict"));
        Assert.Equal("PONG", (await db.ExecuteAsync("PING")).ToString());
        Assert.Contains("\"total\":3,", (await db.StringGetAsync("view:credits:cf-1")).ToString());
    }

    [Fact]
    public async Task bad_ids_and_labels_are_errors_naming_the_setting_and_arm_nothing()
    {
        await Bank.WaitForViewsAsync(Node);
        await using var redis = await Connect();
        var db = redis.GetDatabase();
        foreach (var (args, expected) in new (object[] Args, string Expected)[]
                 {
                     (["", "{}"], "CONTEXTLAKE.DECISION's id must be a string of 1 to 256 characters naming the decision (setting ContextLake:Decisions:MaxIdLength), not ''"),
                     ([" "], "(setting ContextLake:Decisions:MaxIdLength)"),
                     ([new string('x', 257)], "(setting ContextLake:Decisions:MaxIdLength)"),
                     (["bad-1", "vip"], "labels must be a JSON object, not 'vip'"),
                     (["bad-1", "[1,2]"], "labels must be a JSON object, not [1,2]"),
                     (["bad-1", JsonSerializer.Serialize(new { note = new string('y', 5000) })], "more than 4096 (setting ContextLake:Decisions:MaxLabelsBytes)"),
                 })
        {
            // A valid arming first: the refused one that follows disarms it.
            Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.DECISION", "bad-armed")).ToString());
            var error = await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync("CONTEXTLAKE.DECISION", args));
            Assert.StartsWith("ERR ", error.Message);
            Assert.Contains(expected, error.Message);
            Assert.True((await db.StringGetAsync("view:credits:bad-never")).IsNull);
            Assert.Equal(404, (await Node.GetJson("v1/decisions/bad-armed")).Status);
        }
        Assert.Contains("wrong number of arguments",
            (await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync("CONTEXTLAKE.DECISION", "a", "{}", "extra"))).Message);
        Assert.Equal(404, (await Node.GetJson("v1/decisions/bad-1")).Status);
    }

    [Fact]
    public async Task the_arming_lasts_until_the_next_read_and_reset_clears_it()
    {
        await Bank.WaitForViewsAsync(Node);
        var last = await Deposit("rs-1", 7);
        await Node.GetJson($"v1/epoch?after=http:writes@{last}");
        var recordedBefore = await Decisions("recorded");
        await using var socket = await RespSocket.ConnectAsync(Node.RespPort, "reset");
        Assert.Equal("+OK", (await socket.CallAsync("CONTEXTLAKE.DECISION", "resp-reset-1")).ToString());
        Assert.Equal("+RESET", (await socket.CallAsync("RESET")).ToString());
        var read = await socket.CallAsync("MGET", "view:credits:rs-1");
        Assert.True(read is { Type: '*', Items: [{ Type: '$' }] }, $"MGET answered {read}");
        Assert.Equal(404, (await Node.GetJson("v1/decisions/resp-reset-1")).Status);

        // Commands that are not reads leave the arming for the next read, which takes it.
        Assert.Equal("+OK", (await socket.CallAsync("CONTEXTLAKE.DECISION", "resp-reset-2")).ToString());
        Assert.Equal("+PONG", (await socket.CallAsync("PING")).ToString());
        Assert.Equal("+OK", (await socket.CallAsync("CONTEXTLAKE.AT", "LATEST")).ToString());
        Assert.Equal(":1", (await socket.CallAsync("EXISTS", "view:credits:rs-1", "view:credits:rs-never")).ToString());
        // Taken: the next read is no decision (under the id it would be a conflict).
        Assert.Equal(":1", (await socket.CallAsync("EXISTS", "view:credits:rs-1")).ToString());
        var (status, record) = await Node.GetJson("v1/decisions/resp-reset-2");
        Assert.True(status == 200, $"{status} {record}");
        Assert.Equal("EXISTS", record.GetProperty("request").GetProperty("resp")[0].GetString());
        Assert.Equal(recordedBefore + 1, await Decisions("recorded"));
    }

    [Fact]
    public async Task redis_cli_records_a_decision_and_replays_it_on_another_connection()
    {
        await Bank.WaitForViewsAsync(Node);
        var last = await Deposit("cli-d", 4);
        await Node.GetJson($"v1/epoch?after=http:writes@{last}");
        // One redis-cli connection: the arming, the read, the epoch of its answer.
        var script = $$"""
            printf '%s\n' "CONTEXTLAKE.DECISION resp-cli-1 '{\"rule\":\"cli\"}'" 'MGET view:credits:cli-d view:credits:cli-never' 'CONTEXTLAKE.EPOCH' |
              redis-cli -p {{Node.RespPort.ToString(CultureInfo.InvariantCulture)}}
            """;
        var (code, first) = await Command.RunAsync("bash", ["-c", script], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"redis-cli exited {code}: {first}");
        var lines = first.Split('\n');
        Assert.Equal(["OK", "{\"total\":4,\"n\":1}", ""], lines.Take(3));
        var (status, record) = await Node.GetJson("v1/decisions/resp-cli-1");
        Assert.True(status == 200, $"{status} {record}");
        Assert.Equal("cli", record.GetProperty("request").GetProperty("labels").GetProperty("rule").GetString());
        Assert.Equal(EpochOf(lines[3]), record.GetProperty("epoch").GetInt64());

        var later = await Deposit("cli-d", 1);
        await Node.GetJson($"v1/epoch?after=http:writes@{later}");
        var (again, second) = await Command.RunAsync("bash", ["-c", script], TimeSpan.FromSeconds(30));
        Assert.True(again == 0, $"redis-cli exited {again}: {second}");
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task while_the_decision_log_cannot_record_a_decision_read_is_tryagain_and_nothing_is_recorded()
    {
        await using var journal = TestJournal.Create(JournalProvider.Sqlite);
        await using var node = await NodeProcess.StartReadyAsync(journal.Environment);
        await Bank.WaitForViewsAsync(node);
        await using var socket = await RespSocket.ConnectAsync(node.RespPort, "log down");
        Assert.Equal("+OK", (await socket.CallAsync("CONTEXTLAKE.DECISION", "resp-down-1")).ToString());
        Assert.True((await socket.CallAsync("GET", "view:credits:a1")).IsNull);

        // The log's table moved away under the node (another connection to decisions.db renames it): the log's batch fails.
        await using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(journal.Options.DataDirectory, "decisions.db")};Pooling=False");
        await other.OpenAsync();
        async Task Rename(string from, string to)
        {
            await using var rename = other.CreateCommand();
            rename.CommandText = $"ALTER TABLE {from} RENAME TO {to}";
            await rename.ExecuteNonQueryAsync();
        }
        await Rename("contextlake_decisions", "contextlake_decisions_away");
        Assert.Equal("+OK", (await socket.CallAsync("CONTEXTLAKE.DECISION", "resp-down-2")).ToString());
        var refused = await socket.CallAsync("GET", "view:credits:a1");
        Assert.True(refused.IsError, $"GET under a decision the log could not record answered {refused}");
        Assert.StartsWith("TRYAGAIN decision 'resp-down-2' could not be recorded, so it is not answered: ", refused.Text);
        await Rename("contextlake_decisions_away", "contextlake_decisions");
        Assert.Equal(404, (await node.GetJson("v1/decisions/resp-down-2")).Status);

        // Nothing was recorded: the same read asked again is recorded now.
        Assert.Equal("+OK", (await socket.CallAsync("CONTEXTLAKE.DECISION", "resp-down-2")).ToString());
        Assert.True((await socket.CallAsync("GET", "view:credits:a1")).IsNull);
        Assert.Equal(200, (await node.GetJson("v1/decisions/resp-down-2")).Status);
    }
}
