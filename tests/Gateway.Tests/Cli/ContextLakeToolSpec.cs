// Every contextlake command against a running three-node cluster, run as a user runs it: the built tool
// in its own process (so exit codes, environment variables and standard output are the real ones), its
// tables and --json output checked against what the cluster is, refusals checked by their exit codes.
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContextLake.Testing;
using ContextLake.Platform.Hosting;
using Xunit;

namespace ContextLake.Gateway.Tests.Cli;

[TestCaseOrderer(DeclarationOrder.Name, DeclarationOrder.Assembly)]
[Collection(ContextLake.Gateway.Tests.Cluster.NodeClusters.Name)]
public sealed class ContextLakeToolSpec(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    private const int Accounts = 30;

    private Dictionary<string, string?> Environment(string? token = ThreeNodeCluster.Token) => new()
    {
        ["CONTEXTLAKE_URL"] = cluster.Nodes[0].BaseAddress.ToString(),
        ["CONTEXTLAKE_TOKEN"] = token,
    };

    private Task<(int Code, string Out, string Err)> Tool(params string[] args) => ToolProcess.RunAsync(Environment(), args);

    private async Task<string> ToolOk(params string[] args)
    {
        var (code, output, error) = await Tool(args);
        Assert.True(code == 0, $"contextlake {string.Join(' ', args)} exited {code}:\n{output}\n{error}");
        return output;
    }

    private async Task<JsonElement> ToolJson(params string[] args) => JsonDocument.Parse(await ToolOk([.. args, "--json"])).RootElement;

    /// <summary>Asks until the answer is settled, for at most 60 s; returns the last answer either way (the caller asserts on it).</summary>
    private static async Task<T> SettledAsync<T>(Func<Task<T>> ask, Func<T, bool> settled)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var answer = await ask();
            if (settled(answer) || DateTime.UtcNow > deadline) return answer;
            await Task.Delay(250);
        }
    }

    private static string HostPort(string address) => address["akka.tcp://contextlake@".Length..];

    /// <summary>The rows of a table (after its header) as cells; asserts every cell starts under its column's header.</summary>
    private static List<string[]> Rows(string table, params string[] headers)
    {
        var lines = table.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        var header = lines.FindIndex(l => l.StartsWith(headers[0] + " ", StringComparison.Ordinal) && headers.All(l.Contains));
        Assert.True(header >= 0, $"no header {string.Join(' ', headers)} in:\n{table}");
        var starts = headers.Select(h => lines[header].IndexOf(h, StringComparison.Ordinal)).ToArray();
        var rows = new List<string[]>();
        foreach (var line in lines.Skip(header + 1))
        {
            if (!Regex.IsMatch(line, @"\S {2,}\S")) break; // the table ended (a summary line follows)
            foreach (var start in starts.Skip(1).Where(s => s < line.Length))
                Assert.True(line[start - 1] == ' ' && line[start - 2] == ' ' && line[start] != ' ', $"column at {start} misaligned in:\n{table}");
            rows.Add(Regex.Split(line, " {2,}"));
        }
        return rows;
    }

    [Fact]
    public async Task cluster_show_lists_three_members_up_and_reachable_with_leader_oldest_and_version()
    {
        var rows = Rows(await ToolOk("cluster", "show"), "ADDRESS", "STATUS", "REACHABILITY", "ROLES", "VERSION", "NOTES");
        Assert.Equal(cluster.Addresses.OrderBy(a => a, StringComparer.Ordinal), rows.Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal(["Up", "reachable", "-"], r[1..4]));
        Assert.All(rows, r => Assert.Matches(@"^\d+\.\d+\.\d+", r[4]));
        Assert.Single(rows, r => r.Length > 5 && r[5].Contains("leader"));
        Assert.Single(rows, r => r.Length > 5 && r[5].Contains("oldest (singletons)"));
        Assert.Equal(cluster.Addresses[0], Assert.Single(rows, r => r.Length > 5 && r[5].Contains("self"))[0]);

        var json = await ToolJson("cluster", "show");
        Assert.Equal(cluster.Addresses[0], json.GetProperty("self").GetString());
        Assert.Contains(json.GetProperty("leader").GetString(), cluster.Addresses);
        Assert.Equal(json.GetProperty("oldest").GetString(), json.GetProperty("singletonsOn").GetString());
        Assert.Equal(3, json.GetProperty("members").GetArrayLength());
        var oldest = Assert.Single(json.GetProperty("members").EnumerateArray(), m => m.GetProperty("oldest").GetBoolean());
        Assert.Equal(json.GetProperty("oldest").GetString(), oldest.GetProperty("address").GetString());
    }

    [Fact]
    public async Task a_wrong_or_missing_token_is_refused_with_exit_code_4_and_other_faults_have_their_own_codes()
    {
        var (code, output, error) = await ToolProcess.RunAsync(Environment(), "cluster", "show", "--token", "not-the-token-at-all");
        Assert.Equal(4, code);
        Assert.Equal("", output);
        Assert.Contains("HTTP 401", error);
        Assert.Contains("ContextLake:Admin:Token", error);

        (code, _, error) = await ToolProcess.RunAsync(Environment(token: null), "sharding", "regions");
        Assert.Equal(4, code);
        Assert.Contains("needs the header 'Authorization: Bearer <token>'", error);

        // The API itself: 401 problem with a Bearer challenge; the same request with the token passes.
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "admin/cluster/down-unreachable");
        wrong.Headers.Authorization = new("Bearer", ThreeNodeCluster.Token + "x");
        using var refused = await cluster.Nodes[1].Http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        (code, _, error) = await Tool("cluster", "leave");
        Assert.Equal(2, code);
        Assert.Contains("Required argument missing", error);
        (code, _, error) = await Tool("cluster", "tail", "--count", "0");
        Assert.Equal(2, code);
        Assert.Contains("--count must be at least 1", error);
        (code, _, _) = await Tool("clustr", "show");
        Assert.Equal(2, code);

        (code, _, error) = await ToolProcess.RunAsync(Environment(), "epoch", "show", "--url", $"http://127.0.0.1:{NodeProcess.FreePort()}");
        Assert.Equal(3, code);
        Assert.Contains("cannot reach the node", error);

        (code, _, error) = await Tool("cluster", "down", "127.0.0.1:1");
        Assert.Equal(1, code);
        Assert.Contains("no cluster member at '127.0.0.1:1'", error);
    }

    [Fact]
    public async Task sharding_regions_and_stats_show_every_state_partition_spread_across_the_nodes()
    {
        var events = Enumerable.Range(0, Accounts).Select(i => new { type = "account", id = $"ops-{i}", kind = "upsert", data = new { balance = i } }).ToArray();
        var (status, body, _) = await cluster.Nodes[0].PostJson("v1/events", NodeClient.Events(events));
        Assert.True(status == 200, body.ToString());

        // A region's sharded entities are its key-group partitions, one per shard, every one of them started.
        // While the coordinator rebalances, a partition handed off between nodes is briefly on none of them, and sharding
        // spreads the partitions over the nodes a few at a time (its rebalance interval): each view below is asked again
        // (bounded) until it shows every partition started and spread, then checked.
        var partitions = StateOptions.DefaultPartitions(JournalProvider.PostgreSql);
        string Total(List<string[]> rows, string type) => rows.Single(r => r[0] == type && r[1] == "(all nodes)")[3];
        bool Spread(List<string[]> rows) => rows.Count(r => r[0] == "entity" && r[1] != "(all nodes)" && r[3] != "0") >= 2;
        var regions = await SettledAsync(async () => Rows(await ToolOk("sharding", "regions"), "TYPE", "NODE", "SHARDS", "ENTITIES"),
            rows => Total(rows, "entity") == partitions.ToString() && Total(rows, "view") == partitions.ToString() && Spread(rows));
        Assert.Equal(["entity", "(all nodes)"], regions.Single(r => r[0] == "entity" && r[1] == "(all nodes)")[..2]);
        Assert.Equal(partitions.ToString(), Total(regions, "entity"));
        Assert.Equal(partitions.ToString(), Total(regions, "view"));

        static JsonElement EntityRegion(JsonElement json) => json.EnumerateArray().Single(r => r.GetProperty("type").GetString() == "entity");
        var regionsJson = await SettledAsync(() => ToolJson("sharding", "regions"), json =>
            EntityRegion(json).GetProperty("entities").GetInt32() == partitions &&
            EntityRegion(json).GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("entities").GetInt32() > 0) >= 2);
        var entity = Assert.Single(regionsJson.EnumerateArray(), r => r.GetProperty("type").GetString() == "entity");
        Assert.Equal(partitions, entity.GetProperty("entities").GetInt32());
        Assert.All(entity.GetProperty("nodes").EnumerateArray(), n => Assert.Contains(n.GetProperty("address").GetString(), cluster.Addresses));
        Assert.True(entity.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("entities").GetInt32() > 0) >= 2,
            $"the {partitions} entity partitions should be spread over the nodes: {entity}");

        var stats = await SettledAsync(() => ToolOk("sharding", "stats", "entity"), text => Rows(text, "NODE", "SHARD", "ENTITIES").Count == partitions);
        var shards = Rows(stats, "NODE", "SHARD", "ENTITIES");
        Assert.Equal(partitions, shards.Count);
        Assert.Equal(partitions, shards.Sum(r => int.Parse(r[2])));
        Assert.Matches($@"entity: {partitions} shards, {partitions} entities on \d nodes", stats);
        var statsJson = await ToolJson("sharding", "stats", "entity");
        Assert.Equal(shards.Count, statsJson.GetProperty("shards").GetInt32());

        var (code, _, error) = await Tool("sharding", "stats", "nope");
        Assert.Equal(1, code);
        Assert.Contains("no shard region of type 'nope'; the types are: entity, vector, view, writes", error);
    }

    [Fact]
    public async Task epoch_views_and_connectors_commands_show_the_nodes_state_and_change_a_connector()
    {
        // Its own write, answered once an epoch commits it: the epoch shown has a stream, whichever test ran first.
        var (status, body, _) = await cluster.Nodes[0].PostJson("v1/events", NodeClient.Events([new { type = "account", id = "ops-epoch", kind = "upsert", data = new { balance = 1 } }]));
        Assert.True(status == 200, body.ToString());
        var epoch = await ToolOk("epoch", "show");
        Assert.Matches(@"epoch \d+ committed at .*; oldest readable epoch \d+", epoch);
        var streams = Rows(epoch, "STREAM", "COMMITTED", "READ", "LAG");
        Assert.Contains(streams, r => r[0].StartsWith("http:writes/", StringComparison.Ordinal));
        Assert.True((await ToolJson("epoch", "show")).GetProperty("n").GetInt64() >= 1);
        Assert.Matches(@"^epoch \d+ committed at .*; oldest readable epoch \d+", await ToolOk("epoch"));

        var views = Rows(await ToolOk("views", "list"), "NAME", "SOURCE", "KEY", "STATUS", "READABLE", "BACKFILL");
        Assert.Equal(["card_velocity", "credits", "debits", "merchant_embeddings", "merchant_totals"], views.Select(r => r[0]));
        Assert.Equal(["credits", "transfer", "to_account", "ready", "yes"], views.Single(r => r[0] == "credits")[..5]);
        Assert.Equal(5, (await ToolJson("views", "list")).GetArrayLength());
        var credits = await ToolOk("views", "describe", "credits");
        Assert.Contains("sql       CREATE VIEW credits AS SELECT to_account, SUM(amount) AS total, COUNT(*) AS n FROM transfer GROUP BY to_account", credits);
        Assert.Contains(Rows(credits, "ALIAS", "FUNCTION", "ARGUMENT"), r => r is ["total", "SUM", "amount"]);
        Assert.Equal("to_account", (await ToolJson("views", "describe", "credits")).GetProperty("key").GetString());
        var (code, _, error) = await Tool("views", "describe", "nope");
        Assert.Equal(1, code);
        Assert.Contains("nope", error);

        var connectors = Rows(await ToolOk("connectors", "list"), "NAME", "TYPE", "STATE", "STREAMS", "LAG", "DEAD-LETTERS");
        Assert.Equal(["payments", "kafka", "RUNNING"], Assert.Single(connectors)[..3]);
        Assert.StartsWith("payments (kafka): PAUSED", await ToolOk("connectors", "pause", "payments"));
        Assert.Equal("PAUSED", (await ToolJson("connectors", "status", "payments")).GetProperty("state").GetString());
        Assert.StartsWith("payments (kafka): RUNNING", await ToolOk("connectors", "resume", "payments"));
        Assert.StartsWith("payments (kafka): RUNNING", await ToolOk("connectors", "status", "payments"));
        Assert.Equal("payments", (await ToolJson("connectors", "list"))[0].GetProperty("name").GetString());
        (code, _, error) = await Tool("connectors", "pause", "nope");
        Assert.Equal(1, code);
        Assert.Contains("nope", error);
    }

    [Fact]
    public async Task cluster_down_removes_a_killed_node_that_was_unreachable()
    {
        var victim = cluster.Addresses[1];
        await cluster.Nodes[1].KillAsync();
        await ThreeNodeCluster.WaitForMembersAsync(cluster.Nodes[0], ms => ms.Any(m => m.Address == victim && m.Reachability == "unreachable"), $"{victim} unreachable");
        var shown = Rows(await ToolOk("cluster", "show"), "ADDRESS", "STATUS", "REACHABILITY", "ROLES", "VERSION", "NOTES");
        Assert.Equal("unreachable", shown.Single(r => r[0] == victim)[2]);

        Assert.Equal($"down requested for {victim} (status was Up)\n", await ToolOk("cluster", "down", HostPort(victim)));
        await ThreeNodeCluster.WaitForMembersAsync(cluster.Nodes[0], ms => ms.Count == 2 && ms.All(m => m.Address != victim), $"{victim} removed");
        Assert.Equal("no unreachable members\n", await ToolOk("cluster", "down-unreachable"));
        Assert.Equal(0, (await ToolJson("cluster", "down-unreachable")).GetProperty("downed").GetArrayLength());
    }

    [Fact]
    public async Task cluster_tail_prints_the_current_members_then_a_member_leaving_until_removed()
    {
        var leaver = cluster.Addresses[2];
        using var tail = ToolProcess.Start(Environment(), "cluster", "tail", "--count", "5", "--for", "90s");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < 2 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(2, Regex.Matches(tail.Output, @"  up +akka\.tcp://\S+  Up").Count);

        Assert.Equal($"leave requested for {leaver} (status was Up)\n", await ToolOk("cluster", "leave", leaver));

        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(120)));
        var lines = tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Matches($@"^\d\d:\d\d:\d\d\.\d{{3}}  leaving +{Regex.Escape(leaver)}  Leaving$", lines[2]);
        Assert.Matches($@"^\d\d:\d\d:\d\d\.\d{{3}}  removed +{Regex.Escape(leaver)}  Removed$", lines[4]);
        await ThreeNodeCluster.WaitForMembersAsync(cluster.Nodes[0], ms => ms.Count == 1, "one member left");

        var json = JsonDocument.Parse(await ToolOk("cluster", "tail", "--count", "1", "--json")).RootElement;
        Assert.Equal("up", json.GetProperty("event").GetString());
        Assert.Equal(cluster.Addresses[0], json.GetProperty("address").GetString());
    }
}
