// The Kafka connector against librdkafka's mock cluster (the real wire protocol on loopback): records
// from a real Confluent producer, and from kcat, reach the views exactly once, across a kill -9 of the
// node in the middle of the stream (records processed but their offsets not yet committed are read
// again and deduplicated).
using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Connectors.Kafka;
using ContextLake.Platform.Hosting;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Connectors;

public abstract class KafkaConnectorSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private readonly MockKafkaCluster _kafka = new(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _kafka.Dispose();
    }

    private IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>(Journal.Environment)
    {
        ["ContextLake__Kafka__BootstrapServers"] = _kafka.BootstrapServers,
        ["ContextLake__ConnectorsFile"] = "",
    };

    private async Task Produce(IEnumerable<(string Id, string Merchant, int Amount)> records)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, EnableIdempotence = true }).Build();
        foreach (var (id, merchant, amount) in records)
            producer.Produce("card_tx", new Message<string, string>
            {
                Key = id,
                Value = JsonSerializer.Serialize(new { id, card_id = "k1", merchant_id = merchant, amount }),
            });
        producer.Flush(TimeSpan.FromSeconds(20));
        await Task.CompletedTask;
    }

    private static async Task<(long N, decimal Total)> Merchants(NodeProcess node, long expected)
    {
        // Bounded wait, generous: on a loaded 2-core CI machine a backlog of thousands can take a minute.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
            {
                reads = Enumerable.Range(0, 4).Select(m => new { view = "merchant_totals", key = $"m{m}" }).ToArray(),
            }));
            Assert.Equal(200, status);
            var values = answer.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("values")).ToList();
            var n = values.Sum(v => v.GetProperty("n").GetInt64());
            var total = values.Sum(v => v.GetProperty("total").GetDecimal());
            if (n >= expected || DateTime.UtcNow > deadline) return (n, total);
            await Task.Delay(100);
        }
    }

    private static long Committed(JsonElement status) => status.GetProperty("streams").EnumerateArray().Sum(s => s.GetProperty("committed").GetInt64());

    /// <summary>The connector's status once its streams' committed offsets add up to <paramref name="expected"/>: each node reports its streams every second.</summary>
    private static async Task<JsonElement> CommittedInStatus(NodeProcess node, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var (_, status) = await node.GetJson("v1/connectors/payments/status");
            if (Committed(status) >= expected || DateTime.UtcNow > deadline) return status;
            await Task.Delay(100);
        }
    }

    private static string Connector => ConnectorWithTasks(1);

    private static string ConnectorWithTasks(int tasks) => JsonSerializer.Serialize(new
    {
        name = "payments",
        // The mock cluster accepts short group timeouts, so a killed member's partitions move on quickly.
        config = new
        {
            type = "kafka", topic = "card_tx", entityType = "card_tx", idField = "id", batch = 25, tasks,
            properties = new Dictionary<string, string> { ["session.timeout.ms"] = "1500", ["heartbeat.interval.ms"] = "100" },
        },
    });

    [Fact]
    public async Task a_member_joining_and_leaving_the_group_mid_stream_loses_and_duplicates_nothing()
    {
        var records = Enumerable.Range(0, 4000).Select(i => ($"b{i}", $"m{i % 4}", i % 50 + 1)).ToList();
        await Produce(records);
        await using var node = await NodeProcess.StartReadyAsync(Environment);
        await Bank.WaitForViewsAsync(node, "merchant_totals");
        Assert.Equal(201, (await node.PostJson("v1/connectors", ConnectorWithTasks(2))).Status);
        // Two tasks (two consumers of the group on this node); once they consume, a third member joins the group, which
        // takes partitions from the node (a revocation mid-stream) and gives them back when it leaves, committing nothing.
        var consuming = DateTime.UtcNow.AddSeconds(60);
        while ((await Merchants(node, 0)).N == 0)
        {
            Assert.True(DateTime.UtcNow < consuming, "the connector did not start consuming within 60 s");
            await Task.Delay(50);
        }
        using (var member = new ConsumerBuilder<string, string>(new ConsumerConfig
               {
                   BootstrapServers = _kafka.BootstrapServers, GroupId = "contextlake-payments", EnableAutoCommit = false,
                   SessionTimeoutMs = 1500, HeartbeatIntervalMs = 100,
               }).Build())
        {
            member.Subscribe("card_tx");
            var joined = DateTime.UtcNow.AddSeconds(30);
            while (member.Assignment.Count == 0 && DateTime.UtcNow < joined) member.Consume(TimeSpan.FromMilliseconds(100));
            Assert.NotEmpty(member.Assignment);
            member.Close();
        }

        var (n, total) = await Merchants(node, records.Count);
        Assert.Equal(records.Count, n);
        Assert.Equal(records.Sum(r => r.Item3), total);
        var status = await CommittedInStatus(node, records.Count);
        Assert.True(records.Count == Committed(status), $"status: {status}");
        Assert.Contains("revoked", node.Output);
    }

    [Fact]
    public async Task records_reach_the_views_exactly_once_across_a_kill_in_the_middle_of_the_stream()
    {
        var first = Enumerable.Range(0, 400).Select(i => ($"r{i}", $"m{i % 4}", i % 50 + 1)).ToList();
        var second = Enumerable.Range(400, 200).Select(i => ($"r{i}", $"m{i % 4}", i % 50 + 1)).ToList();
        await Produce(first);

        await using (var node = await NodeProcess.StartReadyAsync(Environment))
        {
            await Bank.WaitForViewsAsync(node, "merchant_totals");
            var (created, body, _) = await node.PostJson("v1/connectors", Connector);
            Assert.True(created == 201, $"{created} {body}");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await Merchants(node, 1)).N < 100 && DateTime.UtcNow < deadline) await Task.Delay(10);
            await node.KillAsync();
        }

        await Produce(second);
        await using (var node = await NodeProcess.StartReadyAsync(Environment))
        {
            var (n, total) = await Merchants(node, 600);
            Assert.Equal(600, n);
            Assert.Equal(first.Concat(second).Sum(r => r.Item3), total);

            var status = await CommittedInStatus(node, 600);
            Assert.True(600 == Committed(status), $"status: {status}");
        }
    }

    [Fact]
    public async Task a_producer_far_ahead_of_ingest_waits_in_kafka_not_in_the_node()
    {
        var records = Enumerable.Range(0, 3000).Select(i => ($"p{i}", $"m{i % 4}", 1)).ToList();
        await Produce(records);
        await using var node = await NodeProcess.StartReadyAsync(Environment);
        await Bank.WaitForViewsAsync(node, "merchant_totals");
        var connector = JsonSerializer.Serialize(new
        {
            name = "payments",
            config = new
            {
                type = "kafka", topic = "card_tx", entityType = "card_tx", idField = "id", batch = 20, maxBufferPerPartition = 50,
                properties = new Dictionary<string, string> { ["session.timeout.ms"] = "1500", ["heartbeat.interval.ms"] = "100" },
            },
        });
        Assert.Equal(201, (await node.PostJson("v1/connectors", connector)).Status);
        await Merchants(node, 1);

        // Paused, the connector pulls nothing: each partition's consumer buffer fills to its bound and stops there.
        Assert.Equal(202, (int)(await node.Http.PutAsync("v1/connectors/payments/pause", null)).StatusCode);
        var baseline = node.ResidentBytes;
        var peak = baseline;
        JsonElement status = default;
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(150);
            peak = Math.Max(peak, node.ResidentBytes);
            (_, status) = await node.GetJson("v1/connectors/payments/status");
        }
        var streams = status.GetProperty("streams").EnumerateArray().ToList();
        Assert.NotEmpty(streams);
        Assert.All(streams, s => Assert.InRange(s.GetProperty("buffered").GetInt64(), 0, 50));
        var (held, _) = await Merchants(node, 0);
        Assert.InRange(held, 1, 2999);
        Assert.True(peak - baseline < 100L * 1024 * 1024, $"the node grew by {(peak - baseline) / 1048576} MB while paused");

        Assert.Equal(202, (int)(await node.Http.PutAsync("v1/connectors/payments/resume", null)).StatusCode);
        var (n, total) = await Merchants(node, records.Count);
        Assert.Equal(records.Count, n);
        Assert.Equal(records.Count, total);
    }

    [Fact]
    public async Task records_produced_with_kcat_reach_the_views_with_their_key_and_headers_available_to_the_mapping()
    {
        await using var node = await NodeProcess.StartReadyAsync(Environment);
        await Bank.WaitForViewsAsync(node, "merchant_totals");
        var connector = JsonSerializer.Serialize(new
        {
            name = "payments",
            config = new
            {
                type = "kafka", topic = "card_tx", entityType = "card_tx", idField = "key", keyField = "key", headersField = "headers",
                properties = new Dictionary<string, string> { ["session.timeout.ms"] = "1500", ["heartbeat.interval.ms"] = "100" },
            },
        });
        Assert.Equal(201, (await node.PostJson("v1/connectors", connector)).Status);

        // The entity id comes from the Kafka key (kcat -K:), not from the JSON value.
        var lines = string.Join('\n', Enumerable.Range(0, 20).Select(i => $"kc{i}:" + JsonSerializer.Serialize(new { card_id = "k2", merchant_id = "m0", amount = 5 })));
        var kcat = Process.Start(new ProcessStartInfo("kcat", ["-b", _kafka.BootstrapServers, "-t", "card_tx", "-P", "-K:", "-H", "source=kcat"])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        })!;
        await kcat.StandardInput.WriteAsync(lines + "\n");
        kcat.StandardInput.Close();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30))) await kcat.WaitForExitAsync(cts.Token);
        Assert.True(kcat.ExitCode == 0, await kcat.StandardError.ReadToEndAsync());

        var (n, total) = await Merchants(node, 20);
        Assert.Equal(20, n);
        Assert.Equal(100m, total);
        var entity = await node.Entity("card_tx", "kc3");
        var data = entity.GetProperty("events").GetProperty("last").GetProperty("data");
        Assert.Equal("kcat", data.GetProperty("headers").GetProperty("source").GetString());
        Assert.Equal("kc3", data.GetProperty("key").GetString());
    }
}

public sealed class SqliteKafkaConnectorSpec() : KafkaConnectorSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlKafkaConnectorSpec() : KafkaConnectorSpec(JournalProvider.PostgreSql);
