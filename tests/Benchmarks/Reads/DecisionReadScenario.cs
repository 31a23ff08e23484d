// 3. Decision reads: POST /v1/read of 3 keys (an entity and two view keys) and of 20 keys (ten accounts'
// credits and debits), from concurrent clients over HTTP, closed loop: p50/p99/p99.9 and reads/s, once on an
// idle node and once while a Kafka producer feeds it 20,000 transfers/s, read at the latest committed epoch.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Reads;

public static class DecisionReadScenario
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 1 : 8;
        int[] clientCounts = quick ? [1, 4] : [1, 16];
        double rate = quick ? 500 : 20_000;
        var md = new StringBuilder();
        md.AppendLine("## 3. Decision reads");
        md.AppendLine();
        await using var node = await BenchNode.StartAsync();

        // State to read: the ten accounts and 1,000 transfers among them, written in batches of 100.
        var accounts = BankWorkload.AccountIds.Select(a => (object)new { type = "account", id = a, kind = "upsert", data = new { owner = a, balance = 1000 } });
        var transfers = BankWorkload.Transfers(1_000, seed: 3, prefix: "r").Select(t => t.ToEvent());
        long last = 0;
        foreach (var chunk in accounts.Concat(transfers).Chunk(100))
            last = (await Post(node.Http, "v1/events", JsonSerializer.Serialize(new { events = chunk }))).GetProperty("last").GetInt64();
        await WaitCommittedAsync(node.Http, "http:writes", last, TimeSpan.FromMinutes(2));

        var three = JsonSerializer.SerializeToUtf8Bytes(new
        {
            reads = new object[] { new { entity = "account/a1" }, new { view = "credits", key = "a1" }, new { view = "debits", key = "a1" } },
        });
        var twenty = JsonSerializer.SerializeToUtf8Bytes(new
        {
            reads = BankWorkload.AccountIds.SelectMany(a => new object[] { new { view = "credits", key = a }, new { view = "debits", key = a } }).ToArray(),
        });
        var cases = new (string Read, byte[] Body, int Clients)[]
        {
            ("3 keys", three, clientCounts[0]), ("3 keys", three, clientCounts[1]), ("20 keys", twenty, clientCounts[1]),
        };

        var rows = new List<string[]>();
        var chart = new List<(string, double[])>();
        async Task<List<double>> Measure(string load, string read, byte[] body, int clients)
        {
            var (latencies, elapsed) = await ClosedLoop(clients, TimeSpan.FromSeconds(seconds), () => ReadAsync(node.Http, body));
            rows.Add([read, load, $"{clients}", $"{latencies.Count}", F(latencies.Count / elapsed, "0"), F(P(latencies, 50)), F(P(latencies, 99)), F(P(latencies, 99.9))]);
            chart.Add(($"{read}, {clients} client{(clients == 1 ? "" : "s")}, {load}", [P(latencies, 50), P(latencies, 99), P(latencies, 99.9)]));
            return latencies;
        }

        foreach (var (read, body, clients) in cases) await Measure("idle", read, body, clients);

        // The same reads while a producer sends transfers at a steady rate and a connector ingests them.
        var count = (int)(rate * (cases.Length * seconds + 3));
        var live = await LiveStream.StartAsync(node, "reads-load", BankWorkload.Transfers(count, seed: 4, prefix: "rl"), rate,
            TimeSpan.FromSeconds(cases.Length * seconds + 20));
        var visibility = live.Visibility;
        var usage = await NodeUsage.StartAsync(node);
        var committedBefore = visibility.Visible;
        var underLoad = new List<(int Clients, List<double> Latencies)>();
        var ingesting = $"ingest {rate:0}/s";
        foreach (var (read, body, clients) in cases)
        {
            var latencies = await Measure(ingesting, read, body, clients);
            if (read == "3 keys") underLoad.Add((clients, latencies));
        }
        var readUsage = await usage.StopAsync();
        var committedRate = (visibility.Visible - committedBefore) / readUsage.Wall;
        // What the node has not committed by the end of the reads is left: the figure is the rate it committed meanwhile.
        await live.Producing;
        await live.Watching;

        md.AppendLine($"Closed loop for {seconds} s per row: each client sends its next read when the previous answer arrives, over keep-alive HTTP/1.1 " +
                      "connections, from the same machine, at the latest committed epoch (no `epoch` or `after` in the request). The 3-key read is `account/a1`, `credits/a1`, `debits/a1`; " +
                      $"the 20-key read is the bank read of section 4. *idle*: nothing else runs; *ingest {rate:0}/s*: a Kafka producer sends transfers at {rate:0}/s to a connector " +
                      $"of the node all the while (committed during the reads: {F(committedRate, "0")} ev/s).");
        md.AppendLine();
        md.AppendLine(Table(["read", "load", "clients", "reads", "reads/s", "p50 ms", "p99 ms", "p99.9 ms"], rows, leftColumns: 2));
        md.AppendLine(Charts.Grouped("reads.png", "Decision read latency (POST /v1/read)", "ms", ["p50", "p99", "p99.9"], chart.ToArray(), logScale: true));
        md.AppendLine();
        var met = underLoad.All(u => P(u.Latencies, 99) <= 5) && committedRate >= 0.95 * 20_000;
        Aims.Record("3-key read p99 at the latest epoch while ingesting 20,000 ev/s: ≤ 5 ms",
            string.Join(", ", underLoad.Select(u => $"p99 {F(P(u.Latencies, 99))} ms ({u.Clients} client{(u.Clients == 1 ? "" : "s")})")) +
            $", ingest committed {F(committedRate, "0")} ev/s meanwhile", met);

        var metrics = await GetText(node.Http, "metrics");
        var serverSeconds = Scraped(metrics, "http_request_duration_seconds_sum{", "endpoint=\"/v1/read\"");
        var serverCount = Scraped(metrics, "http_request_duration_seconds_count{", "endpoint=\"/v1/read\"");
        md.AppendLine("### What limits this number");
        md.AppendLine();
        md.AppendLine($"Over the reads under ingest:");
        md.AppendLine();
        md.AppendLine(readUsage.Markdown("the reads under ingest", throughput: false));
        md.AppendLine($"Inside the node a decision read took {F(serverSeconds / Math.Max(1, serverCount) * 1000, "0.000")} ms on average over every row " +
                      $"(`http_request_duration_seconds` for `/v1/read`, {serverCount:0} reads): the gateway reads the local partitions' versioned stores directly at the epoch. " +
                      "The rest of the client-side latency is HTTP, JSON and the wait for a core: the load generator, the Kafka producer and mock brokers, the node's ingest " +
                      $"and the other processes share the same {Environment.ProcessorCount} cores, so with more clients than cores, or with ingest running, p99 and p99.9 are mostly time spent waiting to be scheduled.");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>One read: the pre-serialized body posted, the answer read whole and not parsed (the generator stays cheap).</summary>
    private static async Task ReadAsync(HttpClient http, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await http.PostAsync("v1/read", content);
        var answer = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST v1/read answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer)}");
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
