// 2. Freshness: transfers produced to Kafka at fixed rates; the delay from each record's send to the first
// committed epoch that covers it (as a client sees it, through GET /v1/epoch long-polls), p50/p99/p99.9.
using System.Diagnostics;
using System.Text;
using ContextLake.Benchmarks.Support;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Freshness;

public static class FreshnessScenario
{
    public static async Task<string> RunAsync(bool quick)
    {
        double[] rates = quick ? [200] : [1_000, 5_000, 10_000];
        var seconds = quick ? 2 : 10;
        var md = new StringBuilder();
        md.AppendLine("## 2. Freshness: produce → visible at the committed epoch");
        md.AppendLine();
        md.AppendLine($"Transfers are produced to partition 0 of a Kafka topic at a fixed rate for {seconds} s; a Kafka connector ingests them; " +
                      "a client long-polls `GET /v1/epoch?after=STREAM@NEXT` and records, for every record, the time from its `Produce` call " +
                      "to the answer that shows an epoch committing it. Producer, node and watcher share the machine's clock. " +
                      "One warm-up record goes first, and the timed records only once it is visible, so the connector's start and group join are not in the figures.");
        md.AppendLine();

        await using var node = await BenchNode.StartAsync();
        var rows = new List<string[]>();
        var p99s = new List<double>();
        var metricsBefore = await GetText(node.Http, "metrics");
        foreach (var rate in rates)
        {
            var count = (int)(rate * seconds);
            var topic = $"fresh-{rate:0}";
            var stream = await node.AddTransferConnectorAsync(topic, topic);
            var transfers = BankWorkload.Transfers(count, seed: (int)rate, prefix: $"f{rate:0}-");
            // The watcher reads the send times the producer fills in as it goes: one array shared up front.
            var sendTimes = new long[count];
            var visibility = new Visibility(sendTimes);
            var clock = Stopwatch.StartNew();
            var watcher = EpochWatcher.WatchAsync(node.Http, stream, visibility, count, TimeSpan.FromSeconds(seconds + (quick ? 30 : 60)));
            await BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, topic, transfers[..1], 0, sendTimes);
            while (visibility.Visible < 1 && clock.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(5);
            clock.Restart();
            await BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, topic, transfers[1..], rate, sendTimes, firstOffset: 1);
            var produceSeconds = clock.Elapsed.TotalSeconds;
            await watcher;
            var delays = visibility.Delays(from: 1);
            count--;
            p99s.Add(P(delays, 99));
            rows.Add([F(rate, "0"), F(count / produceSeconds, "0"), $"{delays.Count} of {count}", F(P(delays, 50)), F(P(delays, 99)), F(P(delays, 99.9)), F(delays.Count > 0 ? delays.Max() : double.NaN)]);
        }
        Aims.Record("stream-to-serve delay p99 under 50 ms at 10k events/s", $"p99 {F(p99s[^1])} ms at {rates[^1]:0} events/s", p99s[^1] < 50 && rates[^1] >= 10_000);
        md.AppendLine(Table(["target events/s", "produced events/s", "visible", "p50 ms", "p99 ms", "p99.9 ms", "max ms"], rows));
        md.AppendLine(Charts.Grouped("freshness.png", "Produce → visible at the committed epoch", "ms",
            rates.Select(r => $"{r:0}/s").ToArray(),
            [("p50", rows.Select(r => double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray()),
             ("p99", rows.Select(r => double.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)).ToArray()),
             ("p99.9", rows.Select(r => double.Parse(r[5], System.Globalization.CultureInfo.InvariantCulture)).ToArray())], logScale: true));
        md.AppendLine();

        var metrics = await GetText(node.Http, "metrics");
        double Delta(string series, string contains = "") => Scraped(metrics, series, contains) - Scraped(metricsBefore, series, contains);
        var readCount = Delta("contextlake_stream_to_serve_seconds_count{from=\"read\"}");
        var readMean = Delta("contextlake_stream_to_serve_seconds_sum{from=\"read\"}") / Math.Max(1, readCount) * 1000;
        var epochs = Delta("contextlake_epochs_total");
        var entities = Delta("contextlake_apply_seconds_sum{phase=\"entities\"}") / Math.Max(1, Delta("contextlake_apply_seconds_count{phase=\"entities\"}")) * 1000;
        var views = Delta("contextlake_apply_seconds_sum{phase=\"views\"}") / Math.Max(1, Delta("contextlake_apply_seconds_count{phase=\"views\"}")) * 1000;
        md.AppendLine("### What limits this number");
        md.AppendLine();
        md.AppendLine($"The node's own histogram of stream-to-serve delay from the moment a record was read (`contextlake_stream_to_serve_seconds{{from=\"read\"}}`) " +
                      $"averaged {F(readMean)} ms over {readCount:0} applied runs; {epochs:0} epochs were published during the runs " +
                      $"(publish interval 5 ms). A run of records spends on average {F(entities)} ms being journaled by its entities and then " +
                      $"{F(views)} ms being applied to the view keys before the epoch coordinator can commit it: the delay is that apply time, plus the " +
                      "connector's poll and batching (up to 500 records), plus up to one publish interval, plus the long-poll's answer. " +
                      $"Where the produced rate exceeds what ingest sustains (see section 1), records queue in Kafka and the delay grows with the backlog for the rest of the run: " +
                      $"the p99 at the highest rate, {F(p99s[^1])} ms, is then mostly queueing.");
        md.AppendLine();
        return md.ToString();
    }
}
