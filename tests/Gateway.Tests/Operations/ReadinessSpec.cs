// /readyz says why a node should not take traffic: its journal unreachable (end to end, with PostgreSQL
// refusing the node's database), a stream whose epochs stalled, a stream lagging over its bound.
using System.Text.Json;
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
