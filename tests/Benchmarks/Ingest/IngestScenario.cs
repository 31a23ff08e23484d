// 1. Ingest to committed: HTTP batches and a Kafka backlog, events/s until the committed epoch covers them,
// beside the journal's raw rate (the same events persisted by bare persistent actors, no views, no epochs).
// The node's own /metrics afterwards say where the ingest time went.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Ingest;

public static class IngestScenario
{
    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 2 : 15;
        var kafkaRecords = quick ? 1_000 : 20_000;
        var md = new StringBuilder();
        md.AppendLine($"## 1. Ingest to committed ({Bench.Journal} journal)");
        md.AppendLine();

        await using var node = await BenchNode.StartAsync();

        // HTTP: 8 writers post batches of 100 transfers (each: one entity, one credits key, one debits key).
        const int writers = 8, batch = 100;
        long httpEvents = 0, lastOffset = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var n = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                var transfers = BankWorkload.Transfers(batch, seed: w * 100_000 + n, prefix: $"h{w}-{n++}-");
                var body = JsonSerializer.Serialize(new
                {
                    events = transfers.Select(t => new { type = "transfer", id = t.Id, data = new { from_account = t.FromAccount, to_account = t.ToAccount, amount = t.Amount } }),
                });
                var answer = await Post(node.Http, "v1/events", body);
                Interlocked.Add(ref httpEvents, batch);
                var last = answer.GetProperty("last").GetInt64();
                long seen;
                while ((seen = Interlocked.Read(ref lastOffset)) < last && Interlocked.CompareExchange(ref lastOffset, last, seen) != seen) { }
            }
        })));
        await Get(node.Http, $"v1/epoch?after=http:writes@{lastOffset}&timeout=1m");
        var httpSeconds = clock.Elapsed.TotalSeconds;
        var afterHttp = await GetText(node.Http, "metrics");

        // Kafka: a backlog produced first (partition 0), then a connector reads it to the committed epoch.
        var transfers = BankWorkload.Transfers(kafkaRecords, seed: 7, prefix: "k");
        await BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, "ingest", transfers, rate: 0);
        clock.Restart();
        var started = Stopwatch.GetTimestamp();
        var stream = await node.AddTransferConnectorAsync("ingest", "ingest");
        var visibility = new Visibility(new long[kafkaRecords]);
        await EpochWatcher.WatchAsync(node.Http, stream, visibility, kafkaRecords, TimeSpan.FromMinutes(5));
        var kafkaSeconds = clock.Elapsed.TotalSeconds;
        var kafkaRate = visibility.SteadyRate(started);

        var raw = await JournalRawRate.MeasureAsync(quick);

        var httpRate = httpEvents / httpSeconds;
        md.AppendLine(Table(["path", "events", "seconds", "events/s committed", "share of the journal's raw rate"],
        [
            ["HTTP, 8 writers, batches of 100", $"{httpEvents}", F(httpSeconds, "0.0"), F(httpRate, "0"), F(httpRate / raw.EventsPerSecond * 100, "0") + " %"],
            ["Kafka backlog, 1 partition, connector batch 500 (rate from the first committed record on)", $"{visibility.Visible}", F(kafkaSeconds, "0.0"), F(kafkaRate, "0"), F(kafkaRate / raw.EventsPerSecond * 100, "0") + " %"],
            [$"journal raw rate: {raw.Actors} persistent actors × {raw.EventsPerActor} events, {RawRate.Concurrency} at a time, PersistAll, {Bench.Journal} journal", $"{raw.Actors * raw.EventsPerActor}", F(raw.Seconds, "0.0"), F(raw.EventsPerSecond, "0"), "100 %"],
        ]));
        md.AppendLine(Charts.Bars("ingest.png", "Ingest to committed", "events/s",
            ["HTTP", "Kafka", "journal raw"], [httpRate, kafkaRate, raw.EventsPerSecond]));
        md.AppendLine();

        // Where the HTTP ingest time went, from the node's own histograms (sums of seconds over the run).
        var journalSeconds = Scraped(afterHttp, "contextlake_journal_write_seconds_sum");
        var journalWrites = Scraped(afterHttp, "contextlake_journal_write_seconds_count");
        var batchEvents = Scraped(afterHttp, "contextlake_journal_batch_events_sum");
        var entitiesSeconds = Scraped(afterHttp, "contextlake_apply_seconds_sum{phase=\"entities\"}");
        var viewsSeconds = Scraped(afterHttp, "contextlake_apply_seconds_sum{phase=\"views\"}");
        var requestSeconds = Scraped(afterHttp, "http_request_duration_seconds_sum{", "endpoint=\"/v1/events\"");
        var rowsPerEvent = JournalRows(node.Journal.Options) / (double)(httpEvents + kafkaRecords);
        md.AppendLine("### What limits this number");
        md.AppendLine();
        md.AppendLine($"Profile of the HTTP run, from the node's own histograms (`GET /metrics`): the {httpEvents} events took " +
                      $"{F(entitiesSeconds, "0.0")} s of run time in the entity phase (journaling each entity's events, {F(journalWrites, "0")} journal writes " +
                      $"of {F(batchEvents / Math.Max(1, journalWrites), "0.0")} events on average, {F(journalSeconds / Math.Max(1, journalWrites) * 1000, "0.00")} ms each) and " +
                      $"{F(viewsSeconds, "0.0")} s in the view phase (each transfer is one delta for a `credits` key and one for a `debits` key, each " +
                      "persisted by its view key actor), summed over the concurrent runs; " +
                      $"POST /v1/events requests spent {F(requestSeconds, "0.0")} s in all. " +
                      $"Per event that is {F(entitiesSeconds / Math.Max(1, httpEvents) * 1e6, "0")} µs in entities and {F(viewsSeconds / Math.Max(1, httpEvents) * 1e6, "0")} µs in views. " +
                      $"Every event costs {F(rowsPerEvent, "0.00")} journal rows (counted in the journal after both runs: the entity's row, and the view keys' delta batches){(Bench.Journal == ContextLake.Platform.Hosting.JournalProvider.Sqlite ? ", on one SQLite writer" : "")}: " +
                      $"the raw rate of {F(raw.EventsPerSecond, "0")} rows/s bounds ingest at about {F(raw.EventsPerSecond / rowsPerEvent, "0")} events/s, " +
                      $"before the HTTP parsing, the load generator and the epoch coordinator take their share of the two cores.");
        md.AppendLine();
        return md.ToString();
    }

    private static long JournalRows(ContextLake.Platform.Hosting.JournalOptions options)
    {
        using var conn = new ContextLake.Platform.Journal.JournalDatabase(options).CreateConnection();
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM journal";
        return (long)cmd.ExecuteScalar()!;
    }
}
