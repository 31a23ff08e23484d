// 3. Decision reads: 3 keys (an entity and two view keys) and 20 keys (ten accounts' credits and debits), read
// from concurrent clients in closed loops, p50/p99/p99.9 by the client's Stopwatch and reads/s, at the latest committed
// epoch: over HTTP (POST /v1/read), and over the Redis protocol as one MGET (StackExchange.Redis, one multiplexer per
// client) beside the same MGETs against a real redis-server holding the same values, case by case in the same run, with
// ContextLake's share of Redis's reads/s; redis-benchmark's figures for the same MGETs against both; and HTTP and RESP
// again while a Kafka producer feeds the node 20,000 transfers/s.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using StackExchange.Redis;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Reads;

public static class DecisionReadScenario
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private const string Http = "ContextLake, HTTP";
    private const string Resp = "ContextLake, RESP MGET";
    private const string Redis = "Redis, RESP MGET";

    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 1 : 8;
        int[] clientCounts = quick ? [1, 4] : [1, 16];
        double rate = quick ? 500 : 20_000;
        var toolRequests = quick ? 1_000 : 100_000;
        // Eight idle MGET rows (four cases, ContextLake and Redis) beside HTTP's three: --quick gives each half a second.
        var respSeconds = quick ? 0.5 : seconds;
        var respRounds = quick ? 1 : 4;
        var md = new StringBuilder();
        md.AppendLine("## 3. Decision reads");
        md.AppendLine();
        await using var node = await BenchNode.StartAsync();

        // State to read: the ten accounts and 1,000 transfers among them, written in batches of 100.
        var accounts = BankWorkload.AccountIds.Select(a => (object)new { type = "account", id = a, kind = "upsert", data = new { owner = a, balance = 1000 } });
        var transfers = BankWorkload.Transfers(1_000, seed: 3, prefix: "r").Select(t => t.ToEvent());
        var written = new WritePositions();
        foreach (var chunk in accounts.Concat(transfers).Chunk(100))
            written.Add(await Post(node.Http, "v1/events", JsonSerializer.Serialize(new { events = chunk })));
        await written.WaitCommittedAsync(node.Http, TimeSpan.FromMinutes(2));

        var three = JsonSerializer.SerializeToUtf8Bytes(new
        {
            reads = new object[] { new { entity = "account/a1" }, new { view = "credits", key = "a1" }, new { view = "debits", key = "a1" } },
        });
        var twenty = JsonSerializer.SerializeToUtf8Bytes(new
        {
            reads = BankWorkload.AccountIds.SelectMany(a => new object[] { new { view = "credits", key = a }, new { view = "debits", key = a } }).ToArray(),
        });
        // The same reads as Redis keys, in the same order: the entity as entity:account:a1 (its state, one JSON object).
        RedisKey[] threeKeys = ["entity:account:a1", "view:credits:a1", "view:debits:a1"];
        var twentyKeys = BankWorkload.AccountIds.SelectMany(a => new RedisKey[] { $"view:credits:{a}", $"view:debits:{a}" }).ToArray();
        var cases = new (string Read, byte[] Body, int Clients)[]
        {
            ("3 keys", three, clientCounts[0]), ("3 keys", three, clientCounts[1]), ("20 keys", twenty, clientCounts[1]),
        };
        var respCases = new (string Read, RedisKey[] Keys, int Clients)[]
        {
            ("3 keys", threeKeys, clientCounts[0]), ("3 keys", threeKeys, clientCounts[1]),
            ("20 keys", twentyKeys, clientCounts[0]), ("20 keys", twentyKeys, clientCounts[1]),
        };

        var rows = new List<string[]>();
        var httpChart = new List<(string, double[])>();
        var respChart = new List<(string, double[])>();
        var measured = new Dictionary<(string Via, string Read, string Load, int Clients), (List<double> Latencies, double PerSecond)>();
        List<double> Row(string via, string load, string read, int clients, (List<double> Latencies, double Seconds) run)
        {
            var (latencies, elapsed) = run;
            rows.Add([read, via, load, $"{clients}", $"{latencies.Count}", F(latencies.Count / elapsed, "0"), F(P(latencies, 50)), F(P(latencies, 99)), F(P(latencies, 99.9))]);
            var label = $"{read}, {clients} client{(clients == 1 ? "" : "s")}, {load}";
            (via == Http ? httpChart : respChart).Add(($"{(via == Http ? "" : via[..via.IndexOf(',')] + ": ")}{label}", [P(latencies, 50), P(latencies, 99), P(latencies, 99.9)]));
            measured[(via, read, load, clients)] = (latencies, latencies.Count / elapsed);
            return latencies;
        }
        async Task<List<double>> MeasureHttp(string load, string read, byte[] body, int clients) =>
            Row(Http, load, read, clients, await ClosedLoop(clients, TimeSpan.FromSeconds(seconds), () => ReadAsync(node.Http, body)));

        Progress("reads: HTTP");
        foreach (var (read, body, clients) in cases) await MeasureHttp("idle", read, body, clients);

        // The 3-key read named as a decision (a new id each time): answered once the decision log has recorded it.
        Progress("reads: HTTP, recorded as decisions");
        var decisionsMade = 0;
        byte[] NamedThree() => JsonSerializer.SerializeToUtf8Bytes(new
        {
            decision = $"bench-{Interlocked.Increment(ref decisionsMade)}",
            labels = new { rule = "velocity" },
            reads = new object[] { new { entity = "account/a1" }, new { view = "credits", key = "a1" }, new { view = "debits", key = "a1" } },
        });
        var commitsBefore = Scraped(await GetText(node.Http, "metrics"), "contextlake_decision_log_commits_total");
        foreach (var clients in clientCounts)
            Row(Http, "idle", "3 keys, recorded as a decision", clients,
                await ClosedLoop(clients, TimeSpan.FromSeconds(seconds), () => ReadAsync(node.Http, NamedThree())));
        var decisionCommits = Scraped(await GetText(node.Http, "metrics"), "contextlake_decision_log_commits_total") - commitsBefore;

        // The Redis protocol: a multiplexer per client, connected before any clock starts, kept for the reads under ingest.
        Progress("reads: RESP beside Redis");
        await using var lake = await RespClients.ConnectAsync(node.Process.RespEndpoint, clientCounts[1]);
        var tool = await MeasureRespBesideRedisAsync(lake, node.Process.RespPort, respCases, respSeconds, respRounds, toolRequests, twentyKeys, threeKeys, Row);

        // The same reads while a producer sends transfers at a steady rate and a connector ingests them.
        var underIngestRows = cases.Length + 1;
        var count = (int)(rate * (underIngestRows * seconds + 3));
        var live = await LiveStream.StartAsync(node, "reads-load", BankWorkload.Transfers(count, seed: 4, prefix: "rl"), rate,
            TimeSpan.FromSeconds(underIngestRows * seconds + 20));
        var visibility = live.Visibility;
        var usage = await NodeUsage.StartAsync(node);
        var committedBefore = visibility.Visible;
        var underLoad = new List<(string Via, int Clients, List<double> Latencies)>();
        var ingesting = $"ingest {rate:0}/s";
        Progress("reads: HTTP and RESP under ingest");
        foreach (var (read, body, clients) in cases)
        {
            var latencies = await MeasureHttp(ingesting, read, body, clients);
            if (read == "3 keys") underLoad.Add(("HTTP", clients, latencies));
        }
        var respUnderLoad = Row(Resp, ingesting, "3 keys", 1, await lake.ClosedLoopAsync(1, TimeSpan.FromSeconds(seconds), threeKeys));
        underLoad.Add(("RESP MGET", 1, respUnderLoad));
        var readUsage = await usage.StopAsync();
        var committedRate = (visibility.Visible - committedBefore) / readUsage.Wall;
        // What the node has not committed by the end of the reads is left: the figure is the rate it committed meanwhile.
        await live.Producing;
        await live.Watching;

        md.AppendLine($"Closed loop for {seconds} s per row{(respSeconds < seconds ? $" ({F(respSeconds, "0.0")} s per idle MGET row)" : "")}: each client sends its next read when the previous answer arrives, from the same machine, " +
                      "at the latest committed epoch (no `epoch` or `after` in the request, no `CONTEXTLAKE.AT`/`AFTER` on the connection). " +
                      "The 3-key read is `account/a1`, `credits/a1`, `debits/a1`; the 20-key read is the bank read of section 4 (every account's credits and debits). " +
                      $"*{Http}*: `POST /v1/read` over keep-alive HTTP/1.1 connections. *{Resp}*: one `MGET` on the node's Redis protocol port with StackExchange.Redis {ClientVersion} (RESP3, its default: `HELLO 3`), " +
                      "one `ConnectionMultiplexer` per client (so no two clients share a socket, as separate services connect); the 3-key read is " +
                      "`MGET entity:account:a1 view:credits:a1 view:debits:a1` (the entity as its own key, whose value is its state as one JSON object), " +
                      "the 20-key read `MGET view:credits:a0 view:debits:a0 … view:debits:a9`. " +
                      $"*{Redis}*: the same `MGET`s, the same clients, against a redis-server of the suite's own ({tool.RedisVersion}, no persistence) holding " +
                      "the same keys set to the very values the node answered (JSON objects such as `{\"total\":…,\"n\":…}`); " +
                      $"each case runs against ContextLake and Redis in turn{(respRounds > 1 ? $", {respRounds} rounds of {F(respSeconds / respRounds, "0.0")} s each" : "")}, so that a burst of the machine's other load falls on both. " +
                      "Every RESP answer is checked to hold a value for each key. " +
                      $"*idle*: nothing else runs; *ingest {rate:0}/s*: a Kafka producer sends transfers at {rate:0}/s to a connector " +
                      $"of the node all the while (committed during the reads: {F(committedRate, "0")} ev/s).");
        md.AppendLine();
        md.AppendLine(Table(["read", "via", "load", "clients", "reads", "reads/s", "p50 ms", "p99 ms", "p99.9 ms"], rows, leftColumns: 3));
        md.AppendLine($"*3 keys, recorded as a decision*: the same read with `\"decision\"` (a new id each time) and `\"labels\"`, answered once the decision log " +
                      $"has recorded it: {decisionsMade:N0} decisions in {decisionCommits:N0} transactions of the log's writer " +
                      $"({F(decisionsMade / Math.Max(1, decisionCommits), "0.0")} per transaction: whatever waited for the previous commit goes into the next).");
        md.AppendLine();
        md.AppendLine(Charts.Grouped("reads.png", "Decision read latency (POST /v1/read)", "ms", ["p50", "p99", "p99.9"], httpChart.ToArray(), logScale: true));
        md.AppendLine();
        md.AppendLine(Charts.Grouped("reads-resp.png", "Decision read latency (MGET): ContextLake and Redis", "ms", ["p50", "p99", "p99.9"], respChart.ToArray(), logScale: true));
        md.AppendLine();

        md.AppendLine("### Over the Redis protocol, beside Redis");
        md.AppendLine();
        md.AppendLine("Reads/s of the rows above (StackExchange.Redis, idle), and ContextLake's as a share of Redis's:");
        md.AppendLine();
        var shares = respCases.Select(c =>
        {
            var lakeRate = measured[(Resp, c.Read, "idle", c.Clients)].PerSecond;
            var redisRate = measured[(Redis, c.Read, "idle", c.Clients)].PerSecond;
            return (c.Read, c.Clients, Lake: lakeRate, Redis: redisRate, Share: lakeRate / redisRate);
        }).ToList();
        md.AppendLine(Table(["read", "clients", "ContextLake reads/s", "Redis reads/s", "ContextLake / Redis"],
            shares.Select(s => new[] { s.Read, $"{s.Clients}", F(s.Lake, "0"), F(s.Redis, "0"), $"{F(100 * s.Share, "0.0")} %" }), leftColumns: 1));
        md.AppendLine($"`redis-benchmark -q -c {clientCounts[1]} -n {toolRequests} MGET <keys>` (Debian's redis-tools, {tool.ToolVersion}; its own {clientCounts[1]} connections " +
                      "on one event loop, each sending its next command when the answer arrives) against the node's Redis protocol port and against the same redis-server, one after the other; " +
                      "its final line's requests per second and p50:");
        md.AppendLine();
        md.AppendLine(Table(["read", "clients", "requests", "ContextLake req/s", "ContextLake p50 ms", "Redis req/s", "Redis p50 ms", "ContextLake / Redis"],
            tool.Runs.Select(r => new[]
            {
                r.Read, $"{r.Lake.Clients}", $"{r.Lake.Requests}", F(r.Lake.RequestsPerSecond, "0"), F(r.Lake.P50Ms, "0.000"),
                F(r.Redis.RequestsPerSecond, "0"), F(r.Redis.P50Ms, "0.000"), $"{F(100 * r.Lake.RequestsPerSecond / r.Redis.RequestsPerSecond, "0.0")} %",
            }), leftColumns: 1));

        var httpOne = measured[(Http, "3 keys", "idle", clientCounts[0])];
        var httpMany = measured[(Http, "3 keys", "idle", clientCounts[1])];
        Aims.Record("3-key read p99, 1 client, HTTP: ≤ 1 ms", $"p99 {F(P(httpOne.Latencies, 99))} ms (idle, {httpOne.Latencies.Count} reads)", P(httpOne.Latencies, 99) <= 1);
        Aims.Record("3-key reads/s, 16 clients, HTTP: ≥ 30,000", $"{F(httpMany.PerSecond, "0")} reads/s (idle, {clientCounts[1]} clients)", httpMany.PerSecond >= 30_000);
        var share20 = shares.Single(s => s.Read == "20 keys" && s.Clients == clientCounts[1]);
        var tool20 = tool.Runs.Single(r => r.Read == "20 keys");
        Aims.Record("20-key reads/s, 16 clients, RESP MGET, as a share of Redis MGET: ≥ 35 %",
            $"{F(100 * share20.Share, "0.0")} % ({F(share20.Lake, "0")} vs {F(share20.Redis, "0")} reads/s, {share20.Clients} clients, StackExchange.Redis); " +
            $"redis-benchmark: {F(100 * tool20.Lake.RequestsPerSecond / tool20.Redis.RequestsPerSecond, "0.0")} %",
            share20.Share >= 0.35);
        var met = underLoad.All(u => P(u.Latencies, 99) <= 5) && committedRate >= 0.95 * 20_000;
        Aims.Record("3-key read p99 at the latest epoch while ingesting 20,000 ev/s: ≤ 5 ms",
            string.Join(", ", underLoad.Select(u => $"{u.Via} p99 {F(P(u.Latencies, 99))} ms ({u.Clients} client{(u.Clients == 1 ? "" : "s")})")) +
            $", ingest committed {F(committedRate, "0")} ev/s meanwhile", met);

        var metrics = await GetText(node.Http, "metrics");
        var serverSeconds = Scraped(metrics, "http_request_duration_seconds_sum{", "endpoint=\"/v1/read\"");
        var serverCount = Scraped(metrics, "http_request_duration_seconds_count{", "endpoint=\"/v1/read\"");
        var respReadSeconds = Scraped(metrics, "contextlake_resp_read_seconds_sum");
        var respCount = Scraped(metrics, "contextlake_resp_read_seconds_count");
        // Commands the node answered with an error, by name: a client's connect-time probes, never a read (a read's error fails its run).
        var respErrors = metrics.Split('\n')
            .Where(l => l.StartsWith("contextlake_resp_commands_total{", StringComparison.Ordinal) && l.Contains("outcome=\"error\"", StringComparison.Ordinal))
            .Select(l => (Command: l[(l.IndexOf("command=\"", StringComparison.Ordinal) + 9)..].Split('"')[0], Count: double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)))
            .Where(e => e.Count > 0)
            .Select(e => $"{e.Command} {e.Count:0}")
            .DefaultIfEmpty("none")
            .ToList();
        md.AppendLine("### What limits this number");
        md.AppendLine();
        md.AppendLine($"Over the reads under ingest:");
        md.AppendLine();
        md.AppendLine(readUsage.Markdown("the reads under ingest", throughput: false));
        md.AppendLine($"Inside the node a decision read took {F(serverSeconds / Math.Max(1, serverCount) * 1000, "0.000")} ms on average over every HTTP row " +
                      $"(`http_request_duration_seconds` for `/v1/read`, {serverCount:0} reads) and {F(respReadSeconds / Math.Max(1, respCount) * 1000, "0.000")} ms over every RESP row, " +
                      $"ContextLake's and redis-benchmark's (`contextlake_resp_read_seconds`, {respCount:0} reads, from the frame to the reply; commands answered with an error: {string.Join(", ", respErrors)}; these are StackExchange.Redis's probes as it connects, " +
                      "one each per multiplexer: `SENTINEL MASTERS` (*other*), `CLUSTER SLOTS` and `CLUSTER NODES`, which Redis refuses too, and `GET __Booksleeve_TieBreak`, " +
                      "not a ContextLake key, where Redis answers nil): " +
                      "the gateway reads the local partitions' versioned stores directly at the epoch. " +
                      "The rest of the client-side latency is the protocol (HTTP and JSON, or RESP) and the wait for a core: the load generator, the Kafka producer and mock brokers, the node's ingest " +
                      $"and the other processes share the same {Environment.ProcessorCount} cores, so with more clients than cores, or with ingest running, p99 and p99.9 are mostly time spent waiting to be scheduled. " +
                      "Redis answers an `MGET` from memory on one thread, with no epoch to resolve and values stored as the bytes it returns.");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>StackExchange.Redis's package version (its assembly version is only the major one, 3.0.0).</summary>
    private static string ClientVersion =>
        (System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(ConnectionMultiplexer).Assembly)
            ?.InformationalVersion ?? "?").Split('+')[0];

    /// <summary>One redis-benchmark read against both servers.</summary>
    private sealed record ToolRun(string Read, RedisBenchmarkResult Lake, RedisBenchmarkResult Redis);

    private sealed record ToolRuns(string RedisVersion, string ToolVersion, List<ToolRun> Runs);

    /// <summary>
    /// A redis-server holding the keys the node answered, with the values it answered; each case closed-loop against the node,
    /// then against Redis; then redis-benchmark against both. Redis is stopped before it returns (it stays out of the reads under ingest).
    /// </summary>
    private static async Task<ToolRuns> MeasureRespBesideRedisAsync(RespClients lake, int lakePort, (string Read, RedisKey[] Keys, int Clients)[] cases,
        double seconds, int rounds, int toolRequests, RedisKey[] twentyKeys, RedisKey[] threeKeys,
        Func<string, string, string, int, (List<double>, double), List<double>> row)
    {
        var keys = threeKeys.Concat(twentyKeys).Distinct().ToArray();
        var values = await lake.MgetAsync(0, keys);
        foreach (var (key, value) in keys.Zip(values))
            if (JsonDocument.Parse((string)value!).RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidOperationException($"GET {key} on the node answered {value}, not a JSON object");

        await using var redisServer = await RedisServer.StartAsync();
        await using (var setup = await ConnectionMultiplexer.ConnectAsync(redisServer.Configuration))
            await setup.GetDatabase().StringSetAsync(keys.Zip(values, (k, v) => new KeyValuePair<RedisKey, RedisValue>(k, v)).ToArray());
        await using var redis = await RespClients.ConnectAsync(redisServer.Configuration, lake.Count);
        var redisValues = await redis.MgetAsync(0, keys);
        if (!redisValues.SequenceEqual(values)) throw new InvalidOperationException("Redis does not hold the values the node answered");
        var redisVersion = $"Redis {redis.ServerVersion}";

        // Warm-up, not measured: a few hundred MGETs of each read on every connection of both (JIT, buffers).
        foreach (var clients in new[] { lake, redis })
            await Task.WhenAll(Enumerable.Range(0, clients.Count).Select(async c =>
            {
                for (var i = 0; i < 200; i++) await clients.MgetAsync(c, i % 2 == 0 ? threeKeys : twentyKeys);
            }));

        // Each case against ContextLake and Redis in turn, in rounds, so that a burst of the machine's other load falls on both.
        foreach (var (read, caseKeys, clients) in cases)
        {
            var (lakeRun, redisRun) = (new List<double>(), new List<double>());
            var (lakeSeconds, redisSeconds) = (0.0, 0.0);
            for (var round = 0; round < rounds; round++)
            {
                var (l, ls) = await lake.ClosedLoopAsync(clients, TimeSpan.FromSeconds(seconds / rounds), caseKeys);
                var (r, rs) = await redis.ClosedLoopAsync(clients, TimeSpan.FromSeconds(seconds / rounds), caseKeys);
                lakeRun.AddRange(l);
                redisRun.AddRange(r);
                lakeSeconds += ls;
                redisSeconds += rs;
            }
            row(Resp, "idle", read, clients, (lakeRun, lakeSeconds));
            row(Redis, "idle", read, clients, (redisRun, redisSeconds));
        }

        Progress("reads: redis-benchmark");
        var toolClients = cases.Max(c => c.Clients);
        var runs = new List<ToolRun>();
        foreach (var (read, readKeys) in new[] { ("20 keys", twentyKeys), ("3 keys", threeKeys) })
        {
            string[] command = ["MGET", .. readKeys.Select(k => k.ToString())];
            var lakeRun = await RedisBenchmarkTool.RunAsync(lakePort, toolClients, toolRequests, command, TimeSpan.FromMinutes(5));
            var redisRun = await RedisBenchmarkTool.RunAsync(redisServer.Port, toolClients, toolRequests, command, TimeSpan.FromMinutes(5));
            runs.Add(new ToolRun(read, lakeRun, redisRun));
        }
        return new ToolRuns(redisVersion, await RedisBenchmarkTool.VersionAsync(), runs);
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
    public static Task<(List<double> Latencies, double Seconds)> ClosedLoop(int clients, TimeSpan duration, Func<Task> read) =>
        ClosedLoop(clients, duration, _ => read());

    /// <summary>Runs <paramref name="clients"/> loops for <paramref name="duration"/>, loop c calling <paramref name="read"/>(c); latencies in ms.</summary>
    public static Task<(List<double> Latencies, double Seconds)> ClosedLoop(int clients, TimeSpan duration, Func<int, Task> read)
    {
        var clock = Stopwatch.StartNew();
        return ClosedLoop(clients, () => clock.Elapsed < duration, read);
    }

    /// <summary>Runs <paramref name="clients"/> loops of <paramref name="read"/> while <paramref name="more"/> (at most ten minutes).</summary>
    public static Task<(List<double> Latencies, double Seconds)> ClosedLoop(int clients, Func<bool> more, Func<Task> read) =>
        ClosedLoop(clients, more, _ => read());

    /// <summary>Runs <paramref name="clients"/> loops while <paramref name="more"/> (at most ten minutes), loop c calling <paramref name="read"/>(c).</summary>
    public static async Task<(List<double> Latencies, double Seconds)> ClosedLoop(int clients, Func<bool> more, Func<int, Task> read)
    {
        var lists = new List<double>[clients];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = lists[c] = new List<double>();
            while (more() && clock.Elapsed < TimeSpan.FromMinutes(10))
            {
                var t = Stopwatch.GetTimestamp();
                await read(c);
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        })));
        return (lists.SelectMany(l => l).ToList(), clock.Elapsed.TotalSeconds);
    }
}
