// /readyz says why a node should not take traffic: its journal unreachable (end to end, with PostgreSQL
// refusing the node's database), a stream whose epochs stalled, a stream lagging over its bound (end to end,
// with records waiting in Kafka behind a paused connector).
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Operations;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Npgsql;
using Xunit;

namespace ContextLake.Gateway.Tests.Operations;

public sealed class ReadinessSpec() : JournalLifetime(JournalProvider.PostgreSql)
{
    [Fact]
    public async Task a_node_whose_journal_is_unreachable_is_not_ready_and_is_again_once_it_answers()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment);
        var database = new NpgsqlConnectionStringBuilder(((PostgresTestJournal)Journal).ConnectionString).Database!;
        await Admin($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        try
        {
            var down = await WaitForReadiness(node, ready: false);
            Assert.False(down.GetProperty("journalReachable").GetBoolean());
            Assert.Contains(down.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("journal", StringComparison.Ordinal));
        }
        finally
        {
            await Admin($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true");
        }
        var up = await WaitForReadiness(node, ready: true);
        Assert.True(up.GetProperty("journalReachable").GetBoolean());
    }

    [Fact]
    public async Task a_kafka_backlog_over_the_lag_bound_with_no_epoch_committing_it_makes_the_node_unready_until_it_is_consumed()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        await using var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Health__MaxStreamLag"] = "10",
            ["ContextLake__Health__EpochStallAfter"] = "00:00:02",
        });
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        void Produce(int from, int count)
        {
            // One key: every record lands in one partition, so one stream carries the whole backlog.
            for (var i = from; i < from + count; i++)
                producer.Produce("card_tx", new Message<string, string>
                {
                    Key = "k", Value = JsonSerializer.Serialize(new { id = $"t{i}", card_id = "k", merchant_id = "m", amount = 1 }),
                });
            producer.Flush(TimeSpan.FromSeconds(20));
        }

        var connector = JsonSerializer.Serialize(new { name = "payments", config = new { type = "kafka", topic = "card_tx", entityType = "card_tx", idField = "id" } });
        Assert.Equal(201, (await node.PostJson("v1/connectors", connector)).Status);
        Produce(0, 1);
        // The connector has the partition and has committed its first record before it is paused.
        var consumed = DateTime.UtcNow.AddSeconds(60);
        while (!(await node.GetJson("v1/entities/card_tx/t0")).Item1.Equals(200))
        {
            Assert.True(DateTime.UtcNow < consumed, "the first record was not consumed within 60 s");
            await Task.Delay(100);
        }

        Assert.Equal(202, (int)(await node.Http.PutAsync("v1/connectors/payments/pause", null)).StatusCode);
        Produce(1, 30);
        var unready = await WaitForReadiness(node, ready: false);
        var problems = unready.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(problems, p => p.Contains("kafka:payments/card_tx/", StringComparison.Ordinal) && p.Contains("ContextLake:Health:MaxStreamLag", StringComparison.Ordinal));
        Assert.False(unready.GetProperty("lagWithinBound").GetBoolean());

        Assert.Equal(202, (int)(await node.Http.PutAsync("v1/connectors/payments/resume", null)).StatusCode);
        var ready = await WaitForReadiness(node, ready: true);
        Assert.True(ready.GetProperty("lagWithinBound").GetBoolean());
        Assert.True(ready.GetProperty("epochAdvancing").GetBoolean());
    }

    [Fact]
    public void a_stream_read_past_its_committed_offset_longer_than_the_stall_bound_means_epochs_are_not_advancing()
    {
        var now = DateTimeOffset.UtcNow;
        var positions = Positions(committed: 10, read: 15, laggingSince: now.AddSeconds(-40));
        var judged = StreamJudgement.Of(positions, new HealthOptions { EpochStallAfter = TimeSpan.FromSeconds(30) }, now);
        Assert.False(judged.EpochAdvancing);
        Assert.True(judged.LagWithinBound);
        Assert.Contains(judged.Problems, p => p.Contains("kafka:pay/tx/0", StringComparison.Ordinal) && p.Contains("5 uncommitted offsets", StringComparison.Ordinal)
                                              && p.Contains("ContextLake:Health:EpochStallAfter", StringComparison.Ordinal));

        var recent = StreamJudgement.Of(Positions(10, 15, now.AddSeconds(-5)), new HealthOptions { EpochStallAfter = TimeSpan.FromSeconds(30) }, now);
        Assert.True(recent.EpochAdvancing);
        Assert.Empty(recent.Problems);
    }

    [Fact]
    public void a_stream_lagging_more_than_the_configured_bound_is_reported_and_none_is_when_the_bound_is_off()
    {
        var now = DateTimeOffset.UtcNow;
        var judged = StreamJudgement.Of(Positions(100, 1_100, now), new HealthOptions { MaxStreamLag = 500 }, now);
        Assert.False(judged.LagWithinBound);
        Assert.True(judged.EpochAdvancing);
        Assert.Contains(judged.Problems, p => p.Contains("lags by 1000 offsets, more than 500", StringComparison.Ordinal)
                                              && p.Contains("ContextLake:Health:MaxStreamLag", StringComparison.Ordinal));

        var off = StreamJudgement.Of(Positions(100, 1_100, now), new HealthOptions { MaxStreamLag = 0 }, now);
        Assert.True(off.LagWithinBound);
        Assert.Empty(off.Problems);
    }

    private static StreamPositions Positions(long committed, long read, DateTimeOffset laggingSince)
    {
        const string stream = "kafka:pay/tx/0";
        return new StreamPositions(new Epoch(7, new Dictionary<string, long> { [stream] = committed }, laggingSince),
            new Dictionary<string, long> { [stream] = read }, new Dictionary<string, DateTimeOffset> { [stream] = laggingSince });
    }

    private static async Task Admin(string sql)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresTestJournal.AdminConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<JsonElement> WaitForReadiness(NodeProcess node, bool ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await node.Http.GetAsync("readyz");
            var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if ((int)response.StatusCode == (ready ? 200 : 503)) return doc;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/readyz never answered {(ready ? 200 : 503)}; last: {(int)response.StatusCode} {doc}");
            await Task.Delay(200);
        }
    }
}
