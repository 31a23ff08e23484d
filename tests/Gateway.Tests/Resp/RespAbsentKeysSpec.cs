// Nothing is kept per absent key read over the Redis protocol: a flood of 1,000,000 distinct never-written keys
// (half view:credits:<random>, half entity:account:<random>), MGET batches of 1000 from four StackExchange.Redis
// clients at once, answers nil for every key, adds no row to the node's SQLite journal, starts no actor (the entity
// and view shard regions' shard and entity counts are unchanged), and leaves the node's resident memory within 50 MB
// of where it was after a warm-up of 100,000 absent keys (workstation GC, as in AbsentKeysSpec, so that memory
// follows what the node keeps: 50 bytes kept per key would be 50 MB).
using System.Diagnostics;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Gateway.Tests.State;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Resp;

public sealed class RespAbsentKeysSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.Sqlite)
{
    private const int Keys = 1_000_000;
    private const int WarmKeys = 100_000;
    private const int PerMget = 1000;
    private const int Clients = 4;
    private const long MemoryBound = 50L * 1024 * 1024;

    [Fact]
    public async Task a_million_absent_keys_over_mget_answer_nil_and_create_no_journal_rows_no_actors_and_no_memory_per_key()
    {
        var (node, written) = await AbsentKeysSpec.StartWithSomeStateAsync(Journal);
        await using var _ = node;

        var clients = new List<ConnectionMultiplexer>();
        try
        {
            for (var c = 0; c < Clients; c++) clients.Add(await ConnectAsync(node, c));
            // The written credits are there over the Redis protocol once the write is committed; then the warm-up.
            await WaitForCreditsAsync(clients[0].GetDatabase(), written);
            var run = Guid.NewGuid().ToString("N")[..12];
            var warm = Stopwatch.StartNew();
            await FloodAsync(clients, $"warm{run}", WarmKeys, () => { });
            output.WriteLine($"warm-up: {WarmKeys} absent keys in {warm.Elapsed.TotalSeconds:0.0} s");

            // Let whatever the write started (journal rows, snapshots) settle before counting.
            var rows = await AbsentKeysSpec.SettledJournalRowsAsync(Journal);
            var regions = await RegionsAsync(node);
            var baseline = node.ResidentBytes;
            var peak = baseline;
            var flood = Stopwatch.StartNew();
            var last = Stopwatch.GetTimestamp();
            await FloodAsync(clients, $"absent{run}", Keys, () =>
            {
                // Sampled at most every 50 ms from the batches' completions (the node's /proc status, not the test's).
                lock (clients)
                {
                    if (Stopwatch.GetElapsedTime(last).TotalMilliseconds < 50) return;
                    last = Stopwatch.GetTimestamp();
                    peak = Math.Max(peak, node.ResidentBytes);
                }
            });
            flood.Stop();
            await Task.Delay(1000);
            peak = Math.Max(peak, node.ResidentBytes);
            var after = await JournalTransfers.JournalRowsAsync(Journal);
            var regionsAfter = await RegionsAsync(node);

            output.WriteLine($"{Keys} absent keys in {flood.Elapsed.TotalSeconds:0.0} s ({Keys / flood.Elapsed.TotalSeconds:0} keys/s, {Clients} clients)");
            output.WriteLine($"journal rows {rows} before, {after} after; resident {baseline / 1048576} MB before, at most {peak / 1048576} MB during");
            output.WriteLine($"shard regions before: {regions}; after: {regionsAfter}");
            Assert.True(after == rows, $"reading absent keys added {after - rows} journal rows");
            Assert.True(regionsAfter == regions, $"reading absent keys changed the shard regions: {regions} before, {regionsAfter} after");
            Assert.True(peak - baseline <= MemoryBound,
                $"the node grew by {(peak - baseline) / 1048576} MB reading {Keys} absent keys over the Redis protocol (bound {MemoryBound / 1048576} MB)");
            Assert.False(node.HasExited, node.Output);
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(NodeProcess node, int client)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { node.RespEndpoint },
            ClientName = $"absent-keys-{client}",
            AbortOnConnectFail = true,
            ConnectTimeout = 15_000,
            SyncTimeout = 30_000,
            AsyncTimeout = 30_000,
            ConnectRetry = 1,
            // No tie-breaker key (it is not a ContextLake key) and no configuration channel: only reads go to the node.
            TieBreaker = "",
            ConfigurationChannel = "",
        };
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        Assert.True(multiplexer.IsConnected, $"client {client} did not connect to {node.RespEndpoint}: {multiplexer.GetStatus()}");
        return multiplexer;
    }

    /// <summary>
    /// MGETs of <paramref name="count"/> distinct keys no one wrote, <see cref="PerMget"/> at a time, half view:credits and
    /// half entity:account, from every client at once; every key must answer nil. <paramref name="sample"/> runs after each MGET.
    /// </summary>
    private static async Task FloodAsync(IReadOnlyList<ConnectionMultiplexer> clients, string prefix, int count, Action sample)
    {
        var batches = count / PerMget;
        var next = -1;
        var nils = 0L;
        var workers = clients.Select(client => Task.Run(async () =>
        {
            var db = client.GetDatabase();
            var keys = new RedisKey[PerMget];
            int batch;
            while ((batch = Interlocked.Increment(ref next)) < batches)
            {
                for (var i = 0; i < PerMget; i++)
                {
                    var n = batch * PerMget + i;
                    keys[i] = i % 2 == 0 ? $"view:credits:{prefix}-{n}" : $"entity:account:{prefix}-{n}";
                }
                var values = await db.StringGetAsync(keys);
                Assert.True(values.Length == PerMget, $"MGET of {PerMget} keys answered {values.Length} values");
                for (var i = 0; i < values.Length; i++)
                    Assert.True(values[i].IsNull, $"never-written {keys[i]} answered '{values[i]}'");
                Interlocked.Add(ref nils, values.Length);
                sample();
            }
        })).ToArray();
        await Task.WhenAll(workers);
        Assert.Equal(batches * (long)PerMget, nils);
    }

    /// <summary>The written credits answer over the Redis protocol (bounded: 30 s), read after the write's position.</summary>
    private static async Task WaitForCreditsAsync(IDatabase db, long last)
    {
        var result = await db.ExecuteAsync("CONTEXTLAKE.AFTER", $"http:writes@{last}");
        Assert.True(result.ToString() == "OK", $"CONTEXTLAKE.AFTER answered {result}");
        var values = await db.StringGetAsync(Enumerable.Range(0, Bank.Accounts).Select(a => (RedisKey)$"view:credits:a{a}").ToArray());
        var credited = values.Where(v => !v.IsNull).ToList();
        Assert.True(credited.Count > 0, "no account has credits after the write");
        var n = credited.Sum(v =>
        {
            using var doc = JsonDocument.Parse(v.ToString());
            return doc.RootElement.GetProperty("n").GetInt64();
        });
        Assert.True(n == 50, $"the credits count {n} transfers, not the 50 written");
        await db.ExecuteAsync("CONTEXTLAKE.AFTER", "NONE");
    }

    /// <summary>The entity and view shard regions' shards and entities (actors), as GET /admin/sharding/regions/TYPE reports them.</summary>
    private static async Task<string> RegionsAsync(NodeProcess node)
    {
        var parts = new List<string>();
        foreach (var type in new[] { "entity", "view" })
        {
            var (status, stats) = await node.GetJson($"admin/sharding/regions/{type}");
            Assert.True(status == 200, $"GET admin/sharding/regions/{type} answered {status}: {stats}");
            Assert.True(stats.GetProperty("failedShards").GetArrayLength() == 0, $"{type} shards failed to report: {stats}");
            parts.Add($"{type} {stats.GetProperty("shards").GetInt32()} shards {stats.GetProperty("entities").GetInt32()} entities");
        }
        return string.Join(", ", parts);
    }

}
