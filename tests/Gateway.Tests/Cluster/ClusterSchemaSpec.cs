// A schema declared over the API on one node of a cluster is enforced on the others: the PUT answers once the catalog
// (a singleton, here on node 0) has journaled it and the answering node holds it; every other node's replica gets it
// from the catalog's publication (within milliseconds, at the latest at its next ask of the catalog, every 2 s), and
// from then on that node's writes meet it. Views created on any node are checked against it.
using System.Diagnostics;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Cluster;

[Collection(NodeClusters.Name)]
public sealed class ClusterSchemaSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.PostgreSql)
{
    [Fact]
    public async Task a_schema_put_on_one_node_is_enforced_on_the_other()
    {
        var environment = new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
        };
        await using var cluster = await NodeCluster.StartAsync(2, environment);
        await Bank.WaitForViewsAsync(cluster[0], "credits");

        var (created, schema) = await cluster[1].PutJson("v1/schemas/probe", """{"fields": {"score": "number"}}""");
        Assert.True(created == 201, schema.ToString());
        var seen = Stopwatch.StartNew();
        while ((await cluster[0].GetJson("v1/schemas/probe")).Status != 200)
        {
            Assert.True(seen.Elapsed < TimeSpan.FromSeconds(10), "node 0 did not get the schema put on node 1");
            await Task.Delay(5);
        }
        output.WriteLine($"node 0 had the schema {seen.ElapsedMilliseconds} ms after node 1 answered the PUT");

        var (refused, problem, _) = await cluster[0].PostJson("v1/events", NodeClient.Events(new { type = "probe", id = "a", data = new { score = "lots" } }));
        Assert.Equal(400, refused);
        Assert.Equal("events[0].data.score: probe.score is declared number (ContextLake:Schemas), but the value is a string, \"lots\"",
            problem.GetProperty("detail").GetString());

        // A change on node 0 is met on node 1, and a view created on node 1 is checked against the change.
        Assert.Equal(200, (await cluster[0].PutJson("v1/schemas/probe", """{"fields": {"score": "string"}}""")).Status);
        seen.Restart();
        while ((await cluster[1].GetJson("v1/schemas/probe")).Body.GetProperty("fields").GetProperty("score").GetString() != "string")
        {
            Assert.True(seen.Elapsed < TimeSpan.FromSeconds(10), "node 1 did not get the schema changed on node 0");
            await Task.Delay(5);
        }
        Assert.Equal(200, (await cluster[1].PostJson("v1/events", NodeClient.Events(new { type = "probe", id = "b", data = new { score = "lots" } }))).Status);
        var (view, viewProblem, _) = await cluster[1].PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW probe_sum AS SELECT entity_id, SUM(score) AS total FROM probe GROUP BY entity_id",
        }));
        Assert.Equal(400, view);
        Assert.Contains("aggregate SUM needs a number column, but probe.score is string", viewProblem.GetProperty("detail").GetString());
    }
}
