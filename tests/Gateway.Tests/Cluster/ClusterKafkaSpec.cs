// Kafka across nodes: a kafka connector runs on every node as members of one consumer group, so the group
// spreads the topic's partitions over the nodes; every record reaches the views exactly once, and the
// connector's status, asked on any node, lists each node's streams with the node's address.
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Cluster;

[Collection(ContextLake.Gateway.Tests.Cluster.NodeClusters.Name)]
public sealed class ClusterKafkaSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.PostgreSql)
{
    [Fact]
    public async Task partitions_spread_over_the_nodes_of_one_consumer_group_and_every_record_is_counted_once()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        var environment = new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
        };
        Produce(kafka, 0, 300);
        await using var cluster = await NodeCluster.StartAsync(2, environment);
        for (var i = 0; i < cluster.Size; i++) await Bank.WaitForViewsAsync(cluster[i], "merchant_totals");

        var (created, body, _) = await cluster[1].PostJson("v1/connectors", JsonSerializer.Serialize(new
        {
            name = "payments",
            config = new
            {
                type = "kafka", topic = "card_tx", entityType = "card_tx", idField = "id", batch = 20,
                properties = new Dictionary<string, string> { ["session.timeout.ms"] = "1500", ["heartbeat.interval.ms"] = "100" },
            },
        }));
        Assert.True(created == 201, $"{created} {body}");
        await WaitForMerchants(cluster[0], 300);

        // Both nodes are members by now: records produced from here on land on partitions owned by either node.
        await WaitUntil(async () => (await Nodes(cluster[0])).Count == 2 || (await Members(cluster)) == 2, "both nodes joined the group");
        Produce(kafka, 300, 300);
        var (n, total) = await WaitForMerchants(cluster[0], 600);
        Assert.Equal(600, n);
        Assert.Equal(Enumerable.Range(0, 600).Sum(Amount), total);

        // A member that misses heartbeats on a loaded machine makes the group rebalance, and for a moment the nodes
        // report no partitions, or (their reports being a second apart) the old and the new owner both report one: the
        // spread is asked for until it settles, not sampled once.
        static bool Settled(Dictionary<string, List<string>> nodes) =>
            nodes.Count == 2 && nodes.Values.SelectMany(s => s).Count() == nodes.Values.SelectMany(s => s).Distinct().Count();
        var nodes = await Nodes(cluster[1]);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); !Settled(nodes) && DateTime.UtcNow < deadline; nodes = await Nodes(cluster[1]))
            await Task.Delay(200);
        output.WriteLine($"streams per node: {string.Join("; ", nodes.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}"))}");
        Assert.Equal(2, nodes.Count);
        Assert.Contains(cluster.SeedNodes[0], nodes.Keys);
        Assert.Contains(cluster.SeedNodes[1], nodes.Keys);
        // A partition is listed by the node that owns it now, not also by the one it was revoked from.
        var listed = nodes.Values.SelectMany(s => s).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
    }

    private static int Amount(int i) => i % 50 + 1;

    private static void Produce(MockKafkaCluster kafka, int from, int count)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true }).Build();
        for (var i = from; i < from + count; i++)
            producer.Produce("card_tx", new Message<string, string>
            {
                Key = $"k{i}",
                Value = JsonSerializer.Serialize(new { id = $"k{i}", card_id = "c1", merchant_id = $"m{i % 4}", amount = Amount(i) }),
            });
        producer.Flush(TimeSpan.FromSeconds(20));
    }

    /// <summary>Node address → the streams it reports reading, from the connector's status.</summary>
    private static async Task<Dictionary<string, List<string>>> Nodes(NodeProcess node)
    {
        var (status, doc) = await node.GetJson("v1/connectors/payments/status");
        if (status != 200) return new();
        return doc.GetProperty("streams").EnumerateArray()
            .Where(s => s.TryGetProperty("node", out var n) && n.ValueKind == JsonValueKind.String && s.GetProperty("read").GetInt64() > 0)
            .GroupBy(s => s.GetProperty("node").GetString()!)
            .ToDictionary(g => g.Key, g => g.Select(s => s.GetProperty("stream").GetString()!).ToList());
    }

    /// <summary>How many node processes printed that the group assigned them partitions.</summary>
    private static Task<int> Members(NodeCluster cluster) =>
        Task.FromResult(Enumerable.Range(0, cluster.Size).Count(i => cluster[i].Output.Contains("group contextlake-payments assigned", StringComparison.Ordinal)));

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 60 s: {what}");
            await Task.Delay(200);
        }
    }

    private static async Task<(long N, decimal Total)> WaitForMerchants(NodeProcess node, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
            {
                reads = Enumerable.Range(0, 4).Select(m => new { view = "merchant_totals", key = $"m{m}" }).ToArray(),
            }));
            // A shard still starting on the other node can time a read out (503): ask again until the deadline.
            Assert.True(status == 200 || (status == 503 && DateTime.UtcNow < deadline), $"read answered {status}: {answer}");
            if (status != 200)
            {
                await Task.Delay(100);
                continue;
            }
            var values = answer.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("values")).ToList();
            var n = values.Sum(v => v.GetProperty("n").GetInt64());
            if (n >= expected || DateTime.UtcNow > deadline) return (n, values.Sum(v => v.GetProperty("total").GetDecimal()));
            await Task.Delay(100);
        }
    }
}
