// Cluster numbers on this machine: write throughput (to committed) and decision-read latency with one, two
// and three node processes sharing one PostgreSQL journal, load spread over every node's gateway; then, with
// three nodes, how long after a SIGKILL of the oldest node (the singletons' host) reads are answered again
// and a write sent after the kill is committed (the committed epoch moving again). --quick measures one and
// three nodes, briefly, and leaves the failover out.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Cluster;

public static class ClusterScenario
{
    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 2 : 10;
        // --quick measures one and three nodes, enough to show the instruments work; the full run every size.
        int[] sizes = quick ? [1, 3] : [1, 2, 3];
        var report = new StringBuilder();
        report.AppendLine($"## Cluster (PostgreSQL journal, {seconds} s per measurement, default cluster timings)");
        report.AppendLine();
        report.AppendLine($"All node processes, PostgreSQL and the load generator share this machine's {Environment.ProcessorCount} cores " +
                          "(no pinning: the OS schedules them), so more nodes add coordination, not CPU. " +
                          "Writes: 6 writers, batches of 50 transfers, spread over every node's gateway; reads: 6 clients, POST /v1/read of 3 keys, likewise.");
        report.AppendLine();
        report.AppendLine("| nodes | events/s committed | reads/s | read p50 ms | read p99 ms | reads not answered 200 |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        string? failover = null;
        // One Kafka for every node (no connector runs here; without it each node would embed its own).
        using var kafka = new ContextLake.Connectors.Kafka.MockKafkaCluster();
        await ContextLake.Benchmarks.Support.SuitePostgres.EnsureAsync();
        foreach (var size in sizes)
        {
            await using var journal = PostgresTestJournal.Create();
            await using var cluster = await NodeCluster.StartAsync(size, NodeEnvironment(journal, kafka.BootstrapServers));
            for (var i = 0; i < size; i++) await WaitReadable(cluster[i]);
            var throughput = await Throughput(cluster, seconds);
            var (reads, p50, p99, failed) = await ReadLatency(cluster, seconds);
            report.AppendLine($"| {size} | {throughput:0} | {reads:0} | {p50:0.00} | {p99:0.00} | {failed} |");
            if (size == 3 && !quick) failover = await Failover(cluster);
        }
        report.AppendLine();
        // --quick leaves the failover out: it waits for the failure detector and the split-brain resolver, tens of seconds.
        report.AppendLine(failover ?? "The SIGKILL failover is measured in the full run only.");
        return report.ToString();
    }

    private static Dictionary<string, string> NodeEnvironment(TestJournal journal, string kafka) => new(journal.Environment)
    {
        ["ContextLake__ConnectorsFile"] = "",
        ["ContextLake__Kafka__BootstrapServers"] = kafka,
        ["ContextLake__Cluster__DrainPeriod"] = "00:00:01",
    };

    private static async Task<double> Throughput(NodeCluster cluster, int seconds)
    {
        const int writers = 6, batch = 50;
        long events = 0;
        var written = new ContextLake.Benchmarks.Support.WritePositions();
        var run = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            var node = cluster[w % cluster.Size];
            while (run.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                var answer = await Post(node, "v1/events", Events(Enumerable.Range(0, batch).Select(_ => Transfer(random))));
                Interlocked.Add(ref events, batch);
                written.Add(answer);
            }
        })));
        await Get(cluster[0], $"v1/views/credits/a0?{written.AfterQuery}&timeout=60s");
        return events / run.Elapsed.TotalSeconds;
    }

    /// <summary>Closed-loop reads; one that is not answered 200 (a partition moving between nodes answers 503) is counted, not timed.</summary>
    private static async Task<(double PerSecond, double P50, double P99, long Failed)> ReadLatency(NodeCluster cluster, int seconds)
    {
        const int clients = 6;
        var read = JsonSerializer.Serialize(new
        {
            reads = new object[] { new { entity = "account/a1" }, new { view = "credits", key = "a1" }, new { view = "debits", key = "a1" } },
        });
        var latencies = new List<double>[clients];
        long failed = 0;
        var run = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = new List<double>();
            var node = cluster[c % cluster.Size];
            while (run.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                var t = Stopwatch.GetTimestamp();
                if (await TryPost(node, "v1/read", read) is null)
                {
                    Interlocked.Increment(ref failed);
                    await Task.Delay(10);
                    continue;
                }
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        })));
        var all = latencies.SelectMany(l => l).Order().ToList();
        if (all.Count == 0) throw new InvalidOperationException($"no read was answered 200 in {seconds} s ({failed} tried)");
        return (all.Count / run.Elapsed.TotalSeconds, all[(int)(all.Count * 0.50)], all[Math.Min(all.Count - 1, (int)(all.Count * 0.99))], failed);
    }

    /// <summary>SIGKILL of node 0 under a light load through the other two: when reads are answered again, and
    /// when a write sent after the kill is committed.</summary>
    private static async Task<string> Failover(NodeCluster cluster)
    {
        var clock = Stopwatch.StartNew();
        var answered = new List<(TimeSpan Start, TimeSpan End)>();
        var stop = false;
        var reader = Task.Run(async () =>
        {
            var read = JsonSerializer.Serialize(new { reads = new object[] { new { view = "credits", key = "a1" }, new { view = "debits", key = "a2" }, new { entity = "account/a3" } }, timeout = "5s" });
            for (var i = 0; i < 1_000_000 && !Volatile.Read(ref stop); i++)
            {
                var start = clock.Elapsed;
                if (await TryPost(cluster[1 + i % 2], "v1/read", read) is not null) lock (answered) answered.Add((start, clock.Elapsed));
                else await Task.Delay(20);
            }
        });
        await Task.Delay(1000);
        var killedAt = clock.Elapsed;
        await cluster.KillAsync(0);

        var random = new Random(1);
        var body = Events([Transfer(random)]);
        string? position = null;
        for (var i = 0; position is null && clock.Elapsed - killedAt < TimeSpan.FromMinutes(2); i++)
        {
            if (await TryPost(cluster[1 + i % 2], "v1/events", body) is { } ok) position = $"{ok.GetProperty("stream").GetString()}@{ok.GetProperty("last").GetInt64()}";
            else await Task.Delay(50);
        }
        TimeSpan? committedAt = null;
        for (var i = 0; committedAt is null && clock.Elapsed - killedAt < TimeSpan.FromMinutes(2); i++)
        {
            if (await TryPost(cluster[1 + i % 2], "v1/read", JsonSerializer.Serialize(new { reads = new[] { new { view = "credits", key = "a0" } }, after = new[] { position }, timeout = "5s" })) is not null)
                committedAt = clock.Elapsed;
        }
        TimeSpan? readsAgain = null;
        while (readsAgain is null && clock.Elapsed - killedAt < TimeSpan.FromMinutes(2))
        {
            lock (answered) readsAgain = answered.Where(a => a.Start > killedAt + TimeSpan.FromMilliseconds(1)).Select(a => (TimeSpan?)a.End).Min();
            await Task.Delay(20);
        }
        Volatile.Write(ref stop, true);
        await reader;
        List<TimeSpan> ends;
        lock (answered) ends = answered.Select(a => a.End).Where(e => e > killedAt).Prepend(killedAt).ToList();
        var longestGap = ends.Zip(ends.Skip(1), (a, b) => b - a).DefaultIfEmpty(TimeSpan.Zero).Max();

        static string S(TimeSpan? t) => t is { } v ? $"{v.TotalSeconds:0.0}" : "not within 2 min";
        return $"""
            ### SIGKILL of the oldest of three nodes (host of the epoch coordinator, the shard coordinators and some of the write streams)

            | measure | seconds after the kill |
            | --- | ---: |
            | first read started after the kill answered (through a surviving node) | {S(readsAgain - killedAt)} |
            | longest stretch without an answered read | {longestGap.TotalSeconds:0.0} |
            | a write sent after the kill committed (the committed epoch moving again) | {S(committedAt - killedAt)} |

            """;
    }

    private static object Transfer(Random random)
    {
        var from = random.Next(5);
        var to = (from + 1 + random.Next(4)) % 5;
        return new { type = "transfer", id = Guid.NewGuid().ToString("N"), data = new { from_account = $"a{from}", to_account = $"a{to}", amount = random.Next(1, 1000) } };
    }

    private static string Events(IEnumerable<object> events) => JsonSerializer.Serialize(new { events = events.ToArray() });

    private static async Task<JsonElement> Post(NodeProcess node, string path, string json) =>
        await TryPost(node, path, json) ?? throw new InvalidOperationException($"POST {path} on {node.BaseAddress} failed");

    private static async Task<JsonElement?> TryPost(NodeProcess node, string path, string json)
    {
        try
        {
            using var response = await node.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            if (!response.IsSuccessStatusCode) return null;
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task Get(NodeProcess node, string path)
    {
        using var response = await node.Http.GetAsync(path);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}");
    }

    private static async Task WaitReadable(NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var view in new[] { "credits", "debits" })
        {
            while (true)
            {
                using var response = await node.Http.GetAsync($"v1/views/{view}");
                if (response.IsSuccessStatusCode && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("readable").GetBoolean()) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"view {view} not readable on {node.BaseAddress}");
                await Task.Delay(50);
            }
        }
    }
}
