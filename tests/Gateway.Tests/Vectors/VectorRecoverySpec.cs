// A node with a vector view is killed (SIGKILL) right after acknowledged upserts and deletes and started
// again: its vector partitions recover from their snapshots and journals, and similarity reads equal a
// brute-force search over the committed rows. A short history makes some changes fold into the partitions'
// base (and snapshots) before the kill, while the last ones are still pending changes.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

using static ContextLake.Gateway.Tests.Vectors.MerchantEmbeddings;

namespace ContextLake.Gateway.Tests.Vectors;

public sealed class VectorRecoverySpec() : JournalLifetime(JournalProvider.PostgreSql)
{

    private Dictionary<string, string> Environment => new(Journal.Environment)
    {
        ["ContextLake__Epochs__History"] = "00:00:01",
        ["ContextLake__Entities__SnapshotEvery"] = "3",
        // The brute-force oracle's log is ordered by one stream's offsets.
        ["ContextLake__Writes__Streams"] = "1",
    };

    [Fact]
    public async Task after_a_kill_and_restart_similarity_reads_equal_brute_force_over_the_acknowledged_upserts_and_deletes()
    {
        var log = new List<Written>();
        var random = new Random(7);
        await using (var node = await NodeProcess.StartReadyAsync(Environment))
        {
            await WaitReadableAsync(node);
            await WriteBatchesAsync(node, random, log, batches: 25);
            // Let the history horizon pass these writes, so they fold into the partitions' base rows.
            await WaitHorizonPassesAsync(node);
            await WriteBatchesAsync(node, random, log, batches: 15);
            await node.KillAsync();
        }

        await using (var node = await NodeProcess.StartReadyAsync(Environment))
        {
            await WaitReadableAsync(node);
            var last = log.Max(e => e.Offset);
            for (var q = 0; q < 20; q++)
            {
                var query = RandomVector(random);
                var reads = new object[]
                {
                    new { similar = View, vector = query, k = 8, exact = true },
                    new { similar = View, vector = query, k = 8 },
                    new { similar = View, vector = query, k = 4, where = "category = 'a'" },
                };
                var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { reads, after = new[] { $"http:writes@{last}" } }));
                Assert.True(status == 200, $"read answered {status}: {answer}");
                var results = answer.GetProperty("results").EnumerateArray().ToList();
                AssertBruteForce(BruteForce(log, long.MaxValue, query, null, 8), results[0], "exact");
                AssertBruteForce(BruteForce(log, long.MaxValue, query, null, 8), results[1], "default");
                AssertBruteForce(BruteForce(log, long.MaxValue, query, "a", 4), results[2], "where category = 'a'");
            }
        }
    }

    private static async Task WriteBatchesAsync(NodeProcess node, Random random, List<Written> log, int batches)
    {
        for (var b = 0; b < batches; b++)
        {
            var batch = Enumerable.Range(0, 40).OrderBy(_ => random.Next()).Take(1 + random.Next(5))
                .Select(i => new Written(0, $"r{i}", random.NextDouble() < 0.25, RandomVector(random), random.Next(2) == 0 ? "a" : "b")).ToList();
            log.AddRange(await WriteAsync(node, batch));
        }
    }

    private static async Task WaitHorizonPassesAsync(NodeProcess node)
    {
        var (_, now) = await node.GetJson("v1/epoch");
        var target = now.GetProperty("n").GetInt64();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            // Epochs commit only when something is written, and the horizon is an epoch older than the
            // history: a write that touches no vector view keeps epochs coming until it passes `target`.
            var (status, body, _) = await node.PostJson("v1/events", NodeClient.Events(new { type = "account", id = "tick", kind = "upsert", data = new { balance = 1 } }));
            Assert.True(status == 200, $"write answered {status}: {body}");
            var (_, epoch) = await node.GetJson("v1/epoch");
            if (epoch.GetProperty("oldestReadable").GetInt64() > target) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the history horizon did not pass epoch {target}: {epoch}");
            await Task.Delay(200);
        }
    }

    private static void AssertBruteForce(List<(string Id, float Score)> expected, JsonElement result, string what)
    {
        var hits = result.GetProperty("neighbors").EnumerateArray().Select(h => (Id: h.GetProperty("id").GetString()!, Score: h.GetProperty("score").GetSingle())).ToList();
        Assert.True(expected.Select(e => e.Id).SequenceEqual(hits.Select(h => h.Id)),
            $"{what}: expected [{string.Join(", ", expected)}] but read [{string.Join(", ", hits)}]");
        for (var i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i].Score - hits[i].Score) < 1e-4, $"{what}: score of {expected[i].Id}: expected {expected[i].Score}, read {hits[i].Score}");
    }
}
