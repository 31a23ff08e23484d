// End-to-end numbers for one node on this machine, over real HTTP: ingest to committed, stream-to-serve
// delay, and decision reads. `--quick` runs every scenario briefly; `--vectors` runs only the vector
// index scenario; `--postgres` uses the PostgreSQL journal named by CONTEXTLAKE_TEST_POSTGRES instead of
// SQLite. Prints a Markdown report.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Microsoft.Data.Sqlite;

var quick = args.Contains("--quick");
if (args.Contains("--vectors"))
{
    // In-process only (no node): the vector index figures alone.
    Console.WriteLine(await ContextLake.Benchmarks.Vectors.VectorScenario.RunAsync(quick));
    return 0;
}
var provider = args.Contains("--postgres") ? JournalProvider.PostgreSql : JournalProvider.Sqlite;
var seconds = quick ? 3 : 15;

await using var journal = TestJournal.Create(provider);
using var kafka = new ContextLake.Connectors.Kafka.MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
var environment = new Dictionary<string, string>(journal.Environment)
{
    ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
    ["ContextLake__ConnectorsFile"] = "",
};
await using var node = await NodeProcess.StartReadyAsync(environment);
using var http = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
await WaitReadable(http, "credits", "debits");

var report = new StringBuilder();
report.AppendLine($"# ContextLake benchmark ({(quick ? "quick" : "full")}, journal {provider})");
report.AppendLine();
report.AppendLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; node and load generator share the machine.");
report.AppendLine();

// 1. Ingest to committed: concurrent writers send batches of transfers (each event: one entity, two view keys).
{
    const int writers = 8, batch = 100;
    long events = 0, lastOffset = 0;
    var stop = Stopwatch.StartNew();
    var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        var random = new Random(w);
        while (stop.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var body = Events(Enumerable.Range(0, batch).Select(_ => Transfer(random)));
            var answer = await Post(http, "v1/events", body);
            Interlocked.Add(ref events, batch);
            var last = answer.GetProperty("last").GetInt64();
            long seen;
            while ((seen = Interlocked.Read(ref lastOffset)) < last && Interlocked.CompareExchange(ref lastOffset, last, seen) != seen) { }
        }
    })).ToList();
    await Task.WhenAll(tasks);
    await Get(http, $"v1/epoch?after=http:writes@{lastOffset}");
    await Get(http, $"v1/views/credits/a0?after=http:writes@{lastOffset}");
    var elapsed = stop.Elapsed.TotalSeconds;
    var rows = provider == JournalProvider.Sqlite ? JournalRows(journal.Options.DataDirectory) : -1;
    report.AppendLine("## Ingest to committed (HTTP, batches of 100 transfers, 8 writers)");
    report.AppendLine();
    report.AppendLine("| events | seconds | events/s committed | journal rows per event |");
    report.AppendLine("| ---: | ---: | ---: | ---: |");
    report.AppendLine($"| {events} | {elapsed:0.0} | {events / elapsed:0} | {(rows < 0 ? "n/a" : (rows / (double)events).ToString("0.00"))} |");
    report.AppendLine();
}

// 2. Stream-to-serve delay: single-event writes at a fixed rate; the delay is from the write's
// acknowledgement to the answer of a read that waits for the first epoch committing it.
{
    const int rate = 100;
    var delays = new List<double>();
    var interval = TimeSpan.FromSeconds(1.0 / rate);
    var clock = Stopwatch.StartNew();
    var random = new Random(99);
    var n = rate * Math.Min(seconds, 10);
    for (var i = 0; i < n; i++)
    {
        var due = interval * i;
        if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
        var answer = await Post(http, "v1/events", Events([Transfer(random)]));
        var acked = clock.Elapsed;
        await Get(http, $"v1/views/credits/a1?after=http:writes@{answer.GetProperty("last").GetInt64()}");
        delays.Add((clock.Elapsed - acked).TotalMilliseconds);
    }
    report.AppendLine($"## Stream-to-serve delay (write acknowledged → visible at the committed epoch), {rate} writes/s");
    report.AppendLine();
    report.AppendLine("| samples | p50 ms | p99 ms | p99.9 ms | max ms |");
    report.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
    report.AppendLine($"| {delays.Count} | {P(delays, 50):0.00} | {P(delays, 99):0.00} | {P(delays, 99.9):0.00} | {delays.Max():0.00} |");
    report.AppendLine();
}

// 3. Decision reads: 10 concurrent clients, POST /v1/read of 3 keys (an entity and two view keys).
{
    const int clients = 10;
    var read = JsonSerializer.Serialize(new
    {
        reads = new object[] { new { entity = "account/a1" }, new { view = "credits", key = "a1" }, new { view = "debits", key = "a1" } },
    });
    var latencies = new List<double>[clients];
    var run = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
    {
        var mine = latencies[c] = new List<double>();
        while (run.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var t = Stopwatch.GetTimestamp();
            await Post(http, "v1/read", read);
            mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
    })));
    var all = latencies.SelectMany(l => l).ToList();
    report.AppendLine($"## Decision reads (POST /v1/read of 3 keys, {clients} concurrent clients)");
    report.AppendLine();
    report.AppendLine("| reads | reads/s | p50 ms | p99 ms | p99.9 ms |");
    report.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
    report.AppendLine($"| {all.Count} | {all.Count / run.Elapsed.TotalSeconds:0} | {P(all, 50):0.00} | {P(all, 99):0.00} | {P(all, 99.9):0.00} |");
}

// 4. Kafka ingest with a producer far faster than ingest: records/s to committed and the node's peak memory.
{
    var records = quick ? 20_000 : 100_000;
    var produce = Stopwatch.StartNew();
    using (var producer = new Confluent.Kafka.ProducerBuilder<Confluent.Kafka.Null, string>(
               new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.BootstrapServers, LingerMs = 5 }).Build())
    {
        var random = new Random(5);
        for (var i = 0; i < records; i++)
            producer.Produce("card_tx", new Confluent.Kafka.Message<Confluent.Kafka.Null, string>
            {
                Value = JsonSerializer.Serialize(new { id = $"k{i}", card_id = $"c{random.Next(1000)}", merchant_id = $"m{random.Next(50)}", amount = random.Next(1, 500) }),
            });
        producer.Flush(TimeSpan.FromMinutes(1));
    }
    var produced = produce.Elapsed.TotalSeconds;

    var baseline = node.ResidentBytes;
    var peak = baseline;
    var ingest = Stopwatch.StartNew();
    await Post(http, "v1/connectors", JsonSerializer.Serialize(new
    {
        name = "bench",
        config = new { type = "kafka", topic = "card_tx", entityType = "card_tx", idField = "id", batch = 500,
                       properties = new Dictionary<string, string> { ["session.timeout.ms"] = "1500", ["heartbeat.interval.ms"] = "100" } },
    }));
    long committed = 0;
    var deadline = TimeSpan.FromMinutes(quick ? 2 : 10);
    while (committed < records && ingest.Elapsed < deadline)
    {
        await Task.Delay(100);
        peak = Math.Max(peak, node.ResidentBytes);
        var status = await Get(http, "v1/connectors/bench/status");
        committed = status.GetProperty("streams").EnumerateArray().Sum(x => x.GetProperty("committed").GetInt64());
    }
    var seconds2 = ingest.Elapsed.TotalSeconds;
    report.AppendLine();
    report.AppendLine($"## Kafka ingest with a producer far ahead ({records} records produced in {produced:0.0} s)");
    report.AppendLine();
    report.AppendLine("| records committed | seconds | records/s committed | node RSS before MB | node RSS peak MB |");
    report.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
    report.AppendLine($"| {committed} | {seconds2:0.0} | {committed / seconds2:0} | {baseline / 1048576.0:0} | {peak / 1048576.0:0} |");
}

report.Append(await ContextLake.Benchmarks.Vectors.VectorScenario.RunAsync(quick));
Console.WriteLine(report.ToString());
return 0;

static object Transfer(Random random)
{
    var from = random.Next(50);
    var to = (from + 1 + random.Next(49)) % 50;
    return new { type = "transfer", id = Guid.NewGuid().ToString("N"), data = new { from_account = $"a{from}", to_account = $"a{to}", amount = random.Next(1, 1000) } };
}

static string Events(IEnumerable<object> events) => JsonSerializer.Serialize(new { events = events.ToArray() });

static async Task<JsonElement> Post(HttpClient http, string path, string json)
{
    using var content = new StringContent(json, Encoding.UTF8, "application/json");
    using var response = await http.PostAsync(path, content);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
    return JsonDocument.Parse(text).RootElement.Clone();
}

static async Task<JsonElement> Get(HttpClient http, string path)
{
    using var response = await http.GetAsync(path);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {text}");
    return JsonDocument.Parse(text).RootElement.Clone();
}

static async Task WaitReadable(HttpClient http, params string[] views)
{
    var deadline = DateTime.UtcNow.AddSeconds(30);
    foreach (var view in views)
    {
        // Configured views are created just after startup: 404 until then, then backfilling, then readable.
        while (true)
        {
            using var response = await http.GetAsync($"v1/views/{view}");
            if (response.IsSuccessStatusCode &&
                JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("readable").GetBoolean()) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"view {view} did not become readable");
            await Task.Delay(50);
        }
    }
}

static double P(List<double> values, double percentile)
{
    var sorted = values.Order().ToList();
    var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
    return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
}

static long JournalRows(string dataDirectory)
{
    using var conn = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "journal.db")}");
    conn.Open();
    using var cmd = conn.CreateCommand();
    cmd.CommandText = "SELECT COUNT(*) FROM journal";
    return (long)cmd.ExecuteScalar()!;
}
