// Messages between nodes stay below Akka.Remote's frame: three node processes on one PostgreSQL journal, the
// frame at Akka's 128 KB default (the node sizes it from the largest HTTP body and from State:MessageBytes, so
// both are kept small here: 64 KiB and 16 KiB), take a hot view key (every transfer credits the account "hot")
// from a Kafka backlog produced ahead and from HTTP writers on every node at once. Both partition regions
// span several nodes, so the hot key's view partition gets derived batches from entity partitions on other
// nodes. The stream keeps moving: an epoch commits every event, the hot key's count and total are right, and no
// node reports an oversized payload.
using System.Text.Json;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.State;

[Collection(ContextLake.Gateway.Tests.Cluster.NodeClusters.Name)]
public sealed class BoundedMessagesSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.PostgreSql)
{
    private const int KafkaRecords = 30_000;
    private const int BatchesPerWriter = 15;
    private const int PerBatch = 400;
    private const string Connector = "hot";

    private static decimal Amount(int i) => i % 50 + 1;

    [Fact]
    public async Task a_hot_view_key_fed_from_a_backlog_on_three_nodes_keeps_moving_without_an_oversized_message()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        using var topic = new TransferTopic(kafka, "hot_transfers");
        for (var i = 0; i < KafkaRecords; i++) topic.Produce($"k{i}", $"a{i % Bank.Accounts}", "hot", Amount(i));
        var watermarks = topic.Flush();

        await using var cluster = await NodeCluster.StartAsync(3, new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            // Akka.Remote's frame stays at its 128 KB default: max(128 KiB, max(Http:MaxBodyBytes, 4 × State:MessageBytes) + 64 KiB).
            ["ContextLake__Http__MaxBodyBytes"] = "65536",
            ["ContextLake__State__MessageBytes"] = "16384",
        });
        for (var i = 0; i < cluster.Size; i++) await Bank.WaitForViewsAsync(cluster[i]);
        await WaitForSpread(cluster[0], "entity");
        await WaitForSpread(cluster[0], "view");

        var (created, body, _) = await cluster[0].PostJson("v1/connectors", topic.Connector(Connector, batch: 10_000));
        Assert.True(created == 201, $"{created} {body}");
        var written = 0;
        var positions = new NodeClient.Written();
        await Task.WhenAll(Enumerable.Range(0, cluster.Size).Select(n => Task.Run(async () =>
        {
            for (var b = 0; b < BatchesPerWriter; b++)
            {
                var events = Enumerable.Range(0, PerBatch).Select(i => (object)new
                {
                    type = "transfer", id = $"n{n}-b{b}-e{i}", data = new { from_account = $"a{i % Bank.Accounts}", to_account = "hot", amount = Amount(i) },
                }).ToArray();
                var (status, answer, _) = await cluster[n].PostJson("v1/events", NodeClient.Events(events));
                Assert.True(status == 200, $"node {n} batch {b} answered {status}: {answer}");
                Interlocked.Add(ref written, PerBatch);
                positions.Add(answer);
            }
        })));

        var after = topic.Ends(Connector, watermarks).Concat(positions.After).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(180);
        (int Status, JsonElement Body) read;
        do
        {
            read = await cluster.TryPostJson(1, "v1/read", JsonSerializer.Serialize(new
            {
                reads = new[] { new { view = "credits", key = "hot" } }, after, timeout = "30s",
            }));
        }
        while (read.Status != 200 && DateTime.UtcNow < deadline);
        if (read.Status != 200)
        {
            // What each node's Kafka consumers read per stream (a stream that stopped reading shows read 0 on its owner).
            for (var i = 0; i < cluster.Size; i++)
            {
                var (s1, st) = await cluster[i].GetJson($"v1/connectors/{Connector}/status");
                output.WriteLine($"node {i} status {s1}: {st}");
            }
        }
        Assert.True(read.Status == 200, $"no epoch committed every event within 180 s ({read.Status}: {read.Body}):\n{Oversized(cluster)}\n{Errors(cluster)}");

        var values = read.Body.GetProperty("results")[0].GetProperty("values");
        var expected = KafkaRecords + written;
        var total = Enumerable.Range(0, KafkaRecords).Sum(Amount) + cluster.Size * BatchesPerWriter * Enumerable.Range(0, PerBatch).Sum(Amount);
        Assert.Equal(expected, values.GetProperty("n").GetInt64());
        Assert.Equal(total, values.GetProperty("total").GetDecimal());
        Assert.True(Oversized(cluster).Length == 0, $"a node discarded an oversized message:\n{Oversized(cluster)}");
        TransferTopic.AssertNothingPruned(cluster.Output);
        // Placement held through the load: derived batches for the hot key crossed nodes.
        var entityNodes = await NodesHosting(cluster[0], "entity");
        var viewNodes = await NodesHosting(cluster[0], "view");
        output.WriteLine($"credits/hot = {values}; entity partitions on {entityNodes} nodes, view partitions on {viewNodes} nodes");
        Assert.True(entityNodes >= 2 && viewNodes >= 2, $"entity partitions on {entityNodes} nodes, view partitions on {viewNodes}: nothing had to cross nodes");
    }

    /// <summary>The nodes' first warnings and errors, for a failure's message.</summary>
    private static string Errors(NodeCluster cluster) => string.Join("\n", cluster.Output.Split('\n').Where(l =>
        l.Contains("[ERROR]", StringComparison.Ordinal) || l.Contains("[WARNING]", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)).Take(30));

    private static string Oversized(NodeCluster cluster) => string.Join("\n", cluster.Output.Split('\n').Where(l =>
        l.Contains("OversizedPayloadException", StringComparison.Ordinal) || l.Contains("Discarding oversized payload", StringComparison.Ordinal)).Take(20));

    /// <summary>On how many nodes the region's partitions (its shards, one partition each) are.</summary>
    private static async Task<int> NodesHosting(NodeProcess node, string region)
    {
        var (status, stats) = await node.GetJson($"admin/sharding/regions/{region}");
        Assert.True(status == 200, $"GET admin/sharding/regions/{region} answered {status}: {stats}");
        return stats.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("shards").GetArrayLength() > 0);
    }

    /// <summary>Waits (bounded) until sharding has spread the region's partitions over at least two of the nodes.</summary>
    private async Task WaitForSpread(NodeProcess node, string region)
    {
        var started = DateTime.UtcNow;
        while (await NodesHosting(node, region) < 2)
        {
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(120), $"the {region} partitions stayed on one node for 120 s");
            await Task.Delay(500);
        }
        output.WriteLine($"{region} partitions spread over nodes after {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
    }
}
