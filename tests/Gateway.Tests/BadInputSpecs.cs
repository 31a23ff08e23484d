// Bad input gets a 4xx problem body that names the fault; the node stays up and loses nothing.
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests;

public sealed class BadInputSpecs(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private NodeProcess Node => fixture.Node;

    public static TheoryData<string, string, int, string> Cases() => new()
    {
        { "malformed JSON", """{"events": [{"type": "account", "id": "a1",}]}""", 400, "line 1" },
        { "not an object", """[1, 2]""", 400, "must be a JSON object" },
        { "no events field", """{"evnts": []}""", 400, "no \"events\" field" },
        { "empty batch", """{"events": []}""", 400, "events is empty" },
        { "unknown kind", """{"events": [{"type": "account", "id": "a1"}, {"type": "account", "id": "a1", "kind": "merge"}]}""", 400, "events[1].kind \"merge\" is not one of" },
        { "missing type", """{"events": [{"id": "a1"}]}""", 400, "events[0].type is required" },
        { "missing id", """{"events": [{"type": "account"}]}""", 400, "events[0].id is required" },
        { "bad type name", """{"events": [{"type": "a/b", "id": "1"}]}""", 400, "events[0].type 'a/b'" },
        { "data not an object", """{"events": [{"type": "account", "id": "a1", "data": 5}]}""", 400, "events[0].data must be an object" },
        { "bad time", """{"events": [{"type": "account", "id": "a1", "time": "yesterday"}]}""", 400, "events[0].time \"yesterday\"" },
        { "misspelt field", """{"events": [{"type": "account", "id": "a1", "dat": {}}]}""", 400, "events[0].dat is not a field" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task a_bad_batch_is_refused_with_a_problem_naming_the_fault(string _, string body, int status, string detail)
    {
        var (got, problem, contentType) = await Node.PostJson("v1/events", body);
        AssertProblem(got, problem, contentType, status, detail);
    }

    public static TheoryData<string, string, string> OversizedViews() => new()
    {
        { "a 1,000-character view name", $"CREATE VIEW {new string('v', 1_000)} AS SELECT to_account, SUM(amount) AS total FROM transfer GROUP BY to_account",
            "the view name has 1000 characters; at most 64 are accepted (setting ContextLake:Limits:MaxNameLength)" },
        { "a 100-character column name", $"CREATE VIEW long_alias AS SELECT to_account, SUM(amount) AS {new string('c', 100)} FROM transfer GROUP BY to_account",
            "has 100 characters; at most 64 are accepted (setting ContextLake:Limits:MaxNameLength)" },
        { "a view of 5,000 aggregates", "CREATE VIEW wide AS SELECT to_account, " + string.Join(", ", Enumerable.Range(0, 5_000).Select(i => $"SUM(amount) AS s{i}")) +
            " FROM transfer GROUP BY to_account", "(setting ContextLake:Limits:MaxViewSqlLength)" },
        { "a view of 40 aggregates", "CREATE VIEW forty AS SELECT to_account, " + string.Join(", ", Enumerable.Range(0, 40).Select(i => $"SUM(amount) AS s{i}")) +
            " FROM transfer GROUP BY to_account", "the view has 40 aggregates; at most 32 are accepted (setting ContextLake:Limits:MaxAggregates)" },
    };

    [Theory]
    [MemberData(nameof(OversizedViews))]
    public async Task a_view_definition_past_a_size_limit_is_refused_naming_the_setting_and_not_created(string _, string sql, string detail)
    {
        var (got, problem, contentType) = await Node.PostJson("v1/views", JsonSerializer.Serialize(new { sql }));
        AssertProblem(got, problem, contentType, 400, detail);
        var (status, views) = await Node.GetJson("v1/views");
        Assert.Equal(200, status);
        Assert.DoesNotContain(views.EnumerateArray(), v => v.GetProperty("name").GetString() is "wide" or "forty" or "long_alias" || v.GetProperty("name").GetString()!.Length > 64);
    }

    [Fact]
    public async Task a_wrong_content_type_is_refused()
    {
        var (got, problem, contentType) = await Node.PostJson("v1/events", NodeClient.Events(new { type = "a", id = "1" }), "text/plain");
        AssertProblem(got, problem, contentType, 415, "must be application/json, not 'text/plain");
    }

    [Fact]
    public async Task a_ten_megabyte_body_is_refused()
    {
        var big = "{\"events\": [{\"type\": \"blob\", \"id\": \"b\", \"data\": {\"x\": \"" + new string('x', 10 * 1024 * 1024) + "\"}}]}";
        var (got, problem, contentType) = await Node.PostJson("v1/events", big);
        AssertProblem(got, problem, contentType, 413, "ContextLake:Http:MaxBodyBytes");
    }

    [Fact]
    public async Task an_event_over_the_event_size_limit_is_refused_naming_the_setting()
    {
        var body = "{\"events\": [{\"type\": \"blob\", \"id\": \"ok\"}, {\"type\": \"blob\", \"id\": \"big\", \"data\": {\"x\": \"" + new string('x', 1_100_000) + "\"}}]}";
        var (got, problem, contentType) = await Node.PostJson("v1/events", body);
        AssertProblem(got, problem, contentType, 400, "events[1].data has 1100009 bytes; at most 1048576 are accepted per event (setting ContextLake:Limits:MaxEventBytes)");
    }

    [Fact]
    public async Task a_read_of_more_keys_than_the_limit_is_refused_naming_the_setting()
    {
        var reads = Enumerable.Range(0, 1001).Select(i => new { entity = $"account/a{i}" });
        var (got, problem, contentType) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new { reads }));
        AssertProblem(got, problem, contentType, 400, "reads must hold 1 to 1000 items, not 1001 (setting ContextLake:Limits:MaxReadKeys)");
    }

    [Fact]
    public async Task a_batch_of_100000_events_is_refused()
    {
        var sb = new StringBuilder("{\"events\": [");
        for (var i = 0; i < 100_000; i++) sb.Append(i == 0 ? "" : ",").Append("{\"type\":\"t\",\"id\":\"").Append(i).Append("\"}");
        sb.Append("]}");
        var (got, problem, contentType) = await Node.PostJson("v1/events", sb.ToString());
        AssertProblem(got, problem, contentType, 413, "the batch has 100000 events; at most 10000");
    }

    [Fact]
    public async Task after_bad_input_the_node_is_up_and_nothing_accepted_before_is_lost()
    {
        var good = NodeClient.Events(new { type = "account", id = "keep", kind = "upsert", data = new { balance = 42 } });
        var (goodStatus, goodBody, _) = await Node.PostJson("v1/events", good);
        Assert.Equal(200, goodStatus);

        Assert.Equal(400, (await Node.PostJson("v1/events", "{\"events\": [")).Status);
        Assert.Equal(400, (await Node.PostJson("v1/events", NodeClient.Events(
            new { type = "account", id = "keep", kind = "upsert", data = new { balance = 1 } },
            new { type = "account", kind = "upsert" }))).Status);

        var (ready, _) = await Node.GetJson("readyz");
        Assert.Equal(200, ready);
        var account = await Node.Entity("account", "keep", goodBody.GetProperty("last").GetInt64());
        // The second batch was refused whole: its valid first event was not written either.
        Assert.Equal(42, account.GetProperty("state").GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task a_bad_entity_address_on_read_is_refused_and_an_unknown_entity_reads_as_absent()
    {
        var (status, problem) = await Node.GetJson("v1/entities/bad%20type/1");
        Assert.Equal(400, status);
        Assert.Contains("type 'bad type'", problem.GetProperty("detail").GetString());

        var missing = await Node.Entity("account", "never-written");
        Assert.False(missing.GetProperty("exists").GetBoolean());
        Assert.True(missing.GetProperty("epoch").GetProperty("n").GetInt64() >= 0);
    }

    [Fact]
    public async Task the_openapi_document_describes_the_endpoints()
    {
        var (status, doc) = await Node.GetJson("openapi/v1.json");
        Assert.Equal(200, status);
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/events", out _));
        Assert.True(paths.TryGetProperty("/v1/entities/{type}/{id}", out _));
    }

    private static void AssertProblem(int got, JsonElement problem, string? contentType, int status, string detail)
    {
        Assert.Equal(status, got);
        Assert.Equal("application/problem+json", contentType);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
    }
}
