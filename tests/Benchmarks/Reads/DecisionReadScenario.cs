// 3. Decision reads: POST /v1/read of 3 keys (an entity and two view keys) and of 20 keys (ten accounts'
// credits and debits), from concurrent clients over HTTP, closed loop: p50/p99/p99.9 and reads/s.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Reads;

public static class DecisionReadScenario
{
    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 2 : 10;
        int[] clientCounts = quick ? [4] : [1, 16];
        var md = new StringBuilder();
        md.AppendLine("## 3. Decision reads");
        md.AppendLine();
        await using var node = await BenchNode.StartAsync();

        // State to read: the ten accounts and 1,000 transfers among them, written in batches of 100.
        var accounts = BankWorkload.AccountIds.Select(a => (object)new { type = "account", id = a, kind = "upsert", data = new { owner = a, balance = 1000 } });
        var transfers = BankWorkload.Transfers(1_000, seed: 3, prefix: "r").Select(t =>
            (object)new { type = "transfer", id = t.Id, kind = "event", data = new { from_account = t.FromAccount, to_account = t.ToAccount, amount = t.Amount } });
        long last = 0;
        foreach (var chunk in accounts.Concat(transfers).Chunk(100))
            last = (await Post(node.Http, "v1/events", JsonSerializer.Serialize(new { events = chunk }))).GetProperty("last").GetInt64();
        await Get(node.Http, $"v1/epoch?after=http:writes@{last}&timeout=1m");

        var three = JsonSerializer.Serialize(new
        {
            reads = new object[] { new { entity = "account/a1" }, new { view = "credits", key = "a1" }, new { view = "debits", key = "a1" } },
        });
        var twenty = JsonSerializer.Serialize(new
        {
            reads = BankWorkload.AccountIds.SelectMany(a => new object[] { new { view = "credits", key = a }, new { view = "debits", key = a } }).ToArray(),
        });

        var rows = new List<string[]>();
        var chart = new List<(string, double[])>();
        foreach (var (name, body) in new[] { ("3 keys", three), ("20 keys", twenty) })
            foreach (var clients in clientCounts)
            {
                var (latencies, elapsed) = await ClosedLoop(clients, TimeSpan.FromSeconds(seconds), () => Post(node.Http, "v1/read", body));
                if (name == "3 keys" && clients == clientCounts[0])
                    Aims.Record("3-key decision read p99 under 2 ms", $"p99 {F(P(latencies, 99))} ms ({clients} client{(clients == 1 ? "" : "s")}, closed loop)", P(latencies, 99) < 2);
                rows.Add([name, $"{clients}", $"{latencies.Count}", F(latencies.Count / elapsed, "0"), F(P(latencies, 50)), F(P(latencies, 99)), F(P(latencies, 99.9))]);
                chart.Add(($"{name}, {clients} clients", [P(latencies, 50), P(latencies, 99), P(latencies, 99.9)]));
            }
        md.AppendLine($"Closed loop for {seconds} s per row: each client sends its next read when the previous answer arrives, over keep-alive HTTP/1.1 " +
                      "connections, from the same machine. The 3-key read is `account/a1`, `credits/a1`, `debits/a1`; the 20-key read is the bank read of section 4.");
        md.AppendLine();
        md.AppendLine(Table(["read", "clients", "reads", "reads/s", "p50 ms", "p99 ms", "p99.9 ms"], rows, leftColumns: 1));
        md.AppendLine(Charts.Grouped("reads.png", "Decision read latency (POST /v1/read)", "ms", ["p50", "p99", "p99.9"], chart.ToArray()));
        md.AppendLine();

        var metrics = await GetText(node.Http, "metrics");
        var serverSeconds = Scraped(metrics, "http_request_duration_seconds_sum{", "endpoint=\"/v1/read\"");
        var serverCount = Scraped(metrics, "http_request_duration_seconds_count{", "endpoint=\"/v1/read\"");
        md.AppendLine("### What limits this number");
        md.AppendLine();
        md.AppendLine($"Inside the node a decision read took {F(serverSeconds / Math.Max(1, serverCount) * 1000, "0.000")} ms on average " +
                      $"(`http_request_duration_seconds` for `/v1/read`, {serverCount:0} reads): the read asks each key's actor (entity or view key, under cluster sharding) " +
                      "for its value at the epoch, in parallel, and each actor folds its pending deltas into its base (see the MVCC read fold micro-benchmark). " +
                      "The rest of the client-side latency is HTTP, JSON and the load generator itself, which runs on the same two cores: " +
                      "with more clients than cores, p99 and p99.9 are mostly time spent waiting for a core, on either side.");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>Runs <paramref name="clients"/> loops of <paramref name="read"/> for <paramref name="duration"/>; latencies in ms.</summary>
    public static Task<(List<double> Latencies, double Seconds)> ClosedLoop(int clients, TimeSpan duration, Func<Task> read)
    {
        var clock = Stopwatch.StartNew();
        return ClosedLoop(clients, () => clock.Elapsed < duration, read);
    }

    /// <summary>Runs <paramref name="clients"/> loops of <paramref name="read"/> while <paramref name="more"/> (at most ten minutes).</summary>
    public static async Task<(List<double> Latencies, double Seconds)> ClosedLoop(int clients, Func<bool> more, Func<Task> read)
    {
        var lists = new List<double>[clients];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = lists[c] = new List<double>();
            while (more() && clock.Elapsed < TimeSpan.FromMinutes(10))
            {
                var t = Stopwatch.GetTimestamp();
                await read();
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        })));
        return (lists.SelectMany(l => l).ToList(), clock.Elapsed.TotalSeconds);
    }
}
