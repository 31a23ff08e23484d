// The Redis protocol as a Redis user meets it, with StackExchange.Redis (RESP2 and RESP3) and raw sockets against a
// node process: view keys and entities read by GET, MGET, HGETALL, HMGET, HGET and EXISTS answer what the HTTP API
// answers, absent keys are nil, the connection's read point (CONTEXTLAKE.AFTER, AT, TIMEOUT) works like the HTTP
// read's after, epoch and timeout, RESP3 attributes carry the epoch on request, writes and unknown commands are
// errors that name the command and leave the connection usable, and with an admin token set AUTH is required.
using System.Text;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using StackExchange.Redis;
using Xunit;

namespace ContextLake.Gateway.Tests.Resp;

public sealed class RespProtocolSpec(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private NodeProcess Node => fixture.Node;

    private async Task<long> Write(params object[] events)
    {
        var (status, body, _) = await Node.PostJson("v1/events", NodeClient.Events(events));
        Assert.True(status == 200, $"write answered {status}: {body}");
        return body.GetProperty("last").GetInt64();
    }

    private static object Transfer(string id, string from, string to, decimal amount) =>
        new { type = "transfer", id, data = new { from_account = from, to_account = to, amount } };

    private async Task<ConnectionMultiplexer> Connect(string protocol = "resp2", string extra = "") =>
        await ConnectionMultiplexer.ConnectAsync($"{Node.RespEndpoint},protocol={protocol},connectTimeout=10000{extra}");

    [Theory]
    [InlineData("resp2")]
    [InlineData("resp3")]
    public async Task view_keys_and_entities_read_over_resp_answer_what_http_answers(string protocol)
    {
        await Bank.WaitForViewsAsync(Node);
        var p = $"p{protocol}";
        var last = await Write(
            Transfer($"{p}-1", $"{p}a", $"{p}b", 5), Transfer($"{p}-2", $"{p}a", $"{p}b", 7.5m), Transfer($"{p}-3", $"{p}b", $"{p}a", 1),
            new { type = "account", id = $"{p}a", kind = "upsert", data = new { owner = "ann", balance = 100, tags = new[] { "x" } } });
        await using var redis = await Connect(protocol);
        var db = redis.GetDatabase();
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{last}")).ToString());

        var values = await db.StringGetAsync([$"view:credits:{p}b", $"view:debits:{p}a", $"view:credits:{p}never", $"entity:account:{p}a", $"entity:account:{p}never"]);
        var (status, http, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = new object[] { new { view = "credits", key = $"{p}b" }, new { view = "debits", key = $"{p}a" }, new { entity = $"account/{p}a" } },
            after = new[] { $"http:writes@{last}" },
        }));
        Assert.Equal(200, status);
        var results = http.GetProperty("results");
        AssertSameJson(results[0].GetProperty("values"), values[0]);
        AssertSameJson(results[1].GetProperty("values"), values[1]);
        Assert.True(values[2].IsNull, $"a view key never written is nil, not {values[2]}");
        AssertSameJson(results[2].GetProperty("state"), values[3]);
        Assert.True(values[4].IsNull, $"an entity never written is nil, not {values[4]}");
        using (var credit = JsonDocument.Parse(values[0].ToString()))
        {
            Assert.Equal(12.5m, credit.RootElement.GetProperty("total").GetDecimal());
            Assert.Equal(2, credit.RootElement.GetProperty("n").GetInt64());
        }

        var fields = (await db.HashGetAllAsync($"view:credits:{p}b")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        Assert.Equal(new Dictionary<string, string> { ["total"] = "12.5", ["n"] = "2" }, fields);
        Assert.Equal(["2", "12.5", null], (await db.HashGetAsync($"view:credits:{p}b", ["n", "total", "nope"])).Select(v => v.IsNull ? null : v.ToString()));
        Assert.Equal("ann", (await db.HashGetAsync($"entity:account:{p}a", "owner")).ToString());
        var entity = (await db.HashGetAllAsync($"entity:account:{p}a")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        Assert.Equal("ann", entity["owner"]);
        Assert.Equal("100", entity["balance"]);
        Assert.Equal("[\"x\"]", entity["tags"]);
        Assert.Empty(await db.HashGetAllAsync($"view:credits:{p}never"));
        Assert.Equal(2, (long)await db.ExecuteAsync("EXISTS", $"view:credits:{p}b", $"view:credits:{p}never", $"entity:account:{p}a"));

        // The epoch of the last answer, as the HTTP API writes epochs; it covers the write read after.
        using var epoch = JsonDocument.Parse((await db.ExecuteAsync("CONTEXTLAKE.EPOCH")).ToString());
        Assert.True(epoch.RootElement.GetProperty("vector").GetProperty("http:writes").GetInt64() >= last);
        Assert.True(epoch.RootElement.GetProperty("n").GetInt64() >= http.GetProperty("epoch").GetProperty("n").GetInt64() - 1);
    }

    [Fact]
    public async Task a_connection_pinned_at_an_epoch_keeps_reading_it_until_it_asks_for_the_latest()
    {
        await Bank.WaitForViewsAsync(Node);
        var first = await Write(Transfer("pin-1", "pin-a", "pin-b", 10));
        await using var redis = await Connect();
        var db = redis.GetDatabase();
        await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{first}");
        Assert.Contains("\"total\":10", (await db.StringGetAsync("view:credits:pin-b")).ToString());
        using var epochDoc = JsonDocument.Parse((await db.ExecuteAsync("CONTEXTLAKE.EPOCH")).ToString());
        var pinned = epochDoc.RootElement.GetProperty("n").GetInt64();

        var second = await Write(Transfer("pin-2", "pin-a", "pin-b", 5));
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.AT", pinned)).ToString());
        await db.ExecuteAsync("CONTEXTLAKE.AFTER", "NONE");
        var (status, _) = await Node.GetJson($"v1/epoch?after=http:writes@{second}");
        Assert.Equal(200, status);
        Assert.Contains("\"total\":10", (await db.StringGetAsync("view:credits:pin-b")).ToString());

        await db.ExecuteAsync("CONTEXTLAKE.AT", "LATEST");
        Assert.Contains("\"total\":15", (await db.StringGetAsync("view:credits:pin-b")).ToString());

        // A position no epoch will cover in time: TRYAGAIN after the connection's timeout, like the HTTP read's 504.
        await db.ExecuteAsync("CONTEXTLAKE.TIMEOUT", "200ms");
        await db.ExecuteAsync("CONTEXTLAKE.AFTER", "http:writes@999999999");
        var error = await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync("view:credits:pin-b"));
        Assert.StartsWith("TRYAGAIN", error.Message);
        Assert.Contains("not committed within 200 ms", error.Message);
        await db.ExecuteAsync("CONTEXTLAKE.CONSISTENCY", "stale-ok");
        Assert.Contains("\"total\":15", (await db.StringGetAsync("view:credits:pin-b")).ToString());
    }

    [Fact]
    public async Task writes_unknown_commands_and_bad_keys_are_errors_that_name_them_and_the_connection_goes_on()
    {
        await Bank.WaitForViewsAsync(Node);
        await using var redis = await Connect();
        var db = redis.GetDatabase();
        var set = await Assert.ThrowsAsync<RedisServerException>(() => db.StringSetAsync("view:credits:a1", "1"));
        Assert.Contains("'SET' would write", set.Message);
        Assert.Contains("POST /v1/events", set.Message);
        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync("FROBNICATE", "x"));
        Assert.Contains("unknown command 'FROBNICATE'", unknown.Message);
        var badKey = await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync("credits:a1"));
        Assert.Contains("'credits:a1' is not a ContextLake key (view:<view>:<key> or entity:<type>:<id>)", badKey.Message);
        var noView = await Assert.ThrowsAsync<RedisServerException>(() => db.StringGetAsync(["view:credits:a1", "view:nope:a1"]));
        Assert.Contains("there is no view named 'nope'", noView.Message);
        var select = await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync("SELECT", "3"));
        Assert.Contains("DB index is out of range", select.Message);
        // Still the same, working connection.
        Assert.True(redis.IsConnected);
        Assert.Equal("PONG", (await db.ExecuteAsync("PING")).ToString());
        Assert.True((await db.StringGetAsync("view:credits:never-written-key")).IsNull);
    }

    [Fact]
    public async Task resp3_attributes_carry_the_epoch_before_each_reply_once_asked_for()
    {
        await Bank.WaitForViewsAsync(Node);
        var last = await Write(Transfer("attr-1", "attr-a", "attr-b", 3));
        await using var socket = await RespSocket.ConnectAsync(Node.RespPort, "resp3");
        Assert.StartsWith("-ERR attributes are part of RESP3", await socket.CallRawAsync("CONTEXTLAKE.ATTRIBUTES", "ON"));
        var hello = await socket.CallRawAsync("HELLO", "3");
        Assert.StartsWith("%7\r\n$6\r\nserver\r\n$11\r\ncontextlake\r\n", hello);
        Assert.Contains("$5\r\nproto\r\n:3\r\n", hello);
        Assert.Equal("+OK\r\n", await socket.CallRawAsync("CONTEXTLAKE.AFTER", $"http:writes@{last}"));
        Assert.Equal("+OK\r\n", await socket.CallRawAsync("CONTEXTLAKE.ATTRIBUTES", "ON"));
        var reply = await socket.CallRawAsync("MGET", "view:credits:attr-b", "view:credits:attr-never");
        var match = System.Text.RegularExpressions.Regex.Match(reply, @"^\|1\r\n\+epoch\r\n:(\d+)\r\n\*2\r\n\$\d+\r\n\{""total"":3,""n"":1\}\r\n_\r\n$");
        Assert.True(match.Success, $"an attribute with the epoch, then the array (RESP3 null for the absent key): {reply}");
        var epoch = await socket.CallRawAsync("CONTEXTLAKE.EPOCH");
        Assert.Contains($"\"n\":{match.Groups[1].Value},", epoch);
        Assert.EndsWith("\r\n%0\r\n", await socket.CallRawAsync("HGETALL", "view:credits:attr-never"));
    }

    [Fact]
    public async Task with_an_admin_token_a_connection_reads_only_after_auth_with_it()
    {
        const string token = "resp-spec-admin-token-0123456789";
        await using var journal = TestJournal.Create(JournalProvider.Sqlite);
        await using var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(journal.Environment) { ["ContextLake__Admin__Token"] = token });
        await using (var socket = await RespSocket.ConnectAsync(node.RespPort, "auth"))
        {
            Assert.StartsWith("-NOAUTH", await socket.CallRawAsync("GET", "view:credits:a1"));
            Assert.StartsWith("-WRONGPASS", await socket.CallRawAsync("AUTH", "not-the-token"));
            Assert.StartsWith("-NOAUTH", await socket.CallRawAsync("PING"));
            Assert.Equal("+OK\r\n", await socket.CallRawAsync("AUTH", token));
            Assert.Equal("+PONG\r\n", await socket.CallRawAsync("PING"));
        }
        await Bank.WaitForViewsAsync(node);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{node.RespEndpoint},password={token},connectTimeout=10000");
        Assert.True((await redis.GetDatabase().StringGetAsync("view:credits:a1")).IsNull);
    }

    [Fact]
    public async Task an_open_redis_connection_does_not_hold_the_node_when_it_stops()
    {
        await using var journal = TestJournal.Create(JournalProvider.Sqlite);
        await using var node = await NodeProcess.StartReadyAsync(journal.Environment);
        await using var socket = await RespSocket.ConnectAsync(node.RespPort, "idle");
        Assert.Equal("+PONG\r\n", await socket.CallRawAsync("PING"));
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await node.StopAsync();
        // SIGTERM: the drain period (2 s), the graceful leave, then Kestrel closes the idle connection instead of waiting for it.
        Assert.True(node.HasExited && stopping.Elapsed < TimeSpan.FromSeconds(20), $"the node took {stopping.Elapsed.TotalSeconds:0.0} s to stop with a Redis connection open");
        await socket.ReadUntilClosedAsync("the node stopped");
    }

    [Fact]
    public async Task redis_cli_reads_the_node_with_only_its_port_changed()
    {
        await Bank.WaitForViewsAsync(Node);
        var last = await Write(Transfer("cli-1", "cli-a", "cli-b", 4));
        await Node.GetJson($"v1/epoch?after=http:writes@{last}");
        var (code, stdout) = await Command.RunAsync("redis-cli", ["-p", Node.RespPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "MGET", "view:credits:cli-b", "view:debits:cli-a", "view:credits:cli-never"], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"redis-cli exited {code}: {stdout}");
        // Without a terminal redis-cli prints one value a line, nil as an empty line.
        Assert.Equal(["{\"total\":4,\"n\":1}", "{\"total\":4,\"n\":1}", ""], stdout.Split('\n').Take(3));
        (code, stdout) = await Command.RunAsync("redis-cli", ["-p", Node.RespPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-3", "HGETALL", "view:credits:cli-b"], TimeSpan.FromSeconds(30));
        Assert.Equal(0, code);
        Assert.Contains("total", stdout);
    }

    [Fact]
    public async Task redis_py_reads_the_node_with_only_its_port_changed()
    {
        await Bank.WaitForViewsAsync(Node);
        var last = await Write(Transfer("py-1", "py-a", "py-b", 6), Transfer("py-2", "py-a", "py-b", 1.5m));
        // Debian's python3-redis (redis-py 4), as a Python service would use it.
        var script = string.Join("\n",
            "import json, sys, redis",
            $"r = redis.Redis(host='127.0.0.1', port={Node.RespPort}, decode_responses=True)",
            "assert r.ping()",
            $"assert r.execute_command('CONTEXTLAKE.AFTER', 'http:writes@{last}') == 'OK'",
            "a, b = r.mget(['view:credits:py-b', 'view:credits:py-never'])",
            "assert json.loads(a) == {'total': 7.5, 'n': 2}, a",
            "assert b is None, b",
            "assert r.hgetall('view:debits:py-a') == {'total': '7.5', 'n': '2'}, r.hgetall('view:debits:py-a')",
            "assert json.loads(r.execute_command('CONTEXTLAKE.EPOCH'))['vector']['http:writes'] >= " + last.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "try:",
            "    r.set('view:credits:py-b', 1)",
            "    sys.exit('SET was accepted')",
            "except redis.ResponseError as e:",
            "    assert 'would write' in str(e), str(e)",
            "print('ok')");
        var (code, stdout) = await Command.RunAsync("/usr/bin/python3", ["-c", script], TimeSpan.FromSeconds(60));
        Assert.True(code == 0 && stdout.Contains("ok", StringComparison.Ordinal), $"redis-py exited {code}: {stdout}");
    }

    private static void AssertSameJson(JsonElement expected, RedisValue actual)
    {
        Assert.False(actual.IsNull, $"expected {expected}, got nil");
        using var doc = JsonDocument.Parse(actual.ToString());
        Assert.True(JsonElement.DeepEquals(expected, doc.RootElement), $"HTTP answered {expected}, RESP {actual}");
    }
}
