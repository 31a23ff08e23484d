// 1. Ingest to committed: HTTP batches (8 writers, 1,000 transfers per batch) and a Kafka backlog, events/s until the
// committed epoch covers them, beside the same run's Kafka → Redis micro-batched pipeline on the very same backlog and
// SQLite's raw insert rate; journal rows per event counted in the journal afterwards. What bounded each run comes from
// the node's CPU, the machine's and the node's own /metrics; in the full run a CPU profile of the node under the HTTP
// load (dotnet-trace, dotnet-counters) says where its time went.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ContextLake.Benchmarks.Comparison;
using ContextLake.Benchmarks.Support;
using StackExchange.Redis;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Ingest;

public static class IngestScenario
{
    private const int Writers = 8, Batch = 1_000;

    /// <summary>The Kafka connector's run size and the records it holds per partition: big runs, few journal rows.</summary>
    private const int ConnectorBatch = 5_000, ConnectorBuffer = 20_000;

    public static async Task<string> RunAsync(bool quick)
    {
        var httpSeconds = quick ? 2 : 20;
        var httpBodies = quick ? 30 : 600; // at most 600,000 events: the run ends at httpSeconds or when they are all posted
        var kafkaRecords = quick ? 5_000 : 1_000_000;
        var rawEvents = quick ? 20_000 : 500_000;
        var profile = quick ? TimeSpan.Zero : TimeSpan.FromSeconds(6);
        var md = new StringBuilder();
        md.AppendLine($"## 1. Ingest to committed ({Bench.Journal} journal)");
        md.AppendLine();

        // SQLite alone first, with no node running.
        Progress("ingest: raw SQLite");
        var (single, packed, committed) = SqliteRawRate.Measure(rawEvents, quick ? 200 : 2_000);

        await using var node = await BenchNode.StartAsync();
        await using var redisServer = await RedisServer.StartAsync();
        using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.Configuration);

        // HTTP: bodies serialized before the clock; a few batches first warm the node (JIT, connections), not measured.
        var transfers = BankWorkload.Transfers(httpBodies * Batch, seed: 5, prefix: "h");
        var bodies = HttpLoad.Bodies(httpBodies, Batch, i => transfers[i].ToEvent());
        var warm = HttpLoad.Bodies(2 * Writers, Batch, i => new Transfer($"w{i}", "a1", "a2", 1).ToEvent());
        var warmed = await HttpLoad.RunAsync(node.Http, warm, Batch, Writers, TimeSpan.FromMinutes(2));
        Progress("ingest: HTTP");
        var usage = await NodeUsage.StartAsync(node);
        var http = await HttpLoad.RunAsync(node.Http, bodies, Batch, Writers, TimeSpan.FromSeconds(httpSeconds));
        var httpUsage = await usage.StopAsync();

        // The profile: the same load again (the measured bodies over and over), profiled for a few seconds; not in the figures.
        NodeProfile? nodeProfile = null;
        long profiledEvents = 0;
        if (profile > TimeSpan.Zero)
        {
            Progress("ingest: profile");
            var profiling = true;
            var load = HttpLoad.RepeatAsync(node.Http, bodies, Batch, Writers, () => Volatile.Read(ref profiling));
            await Task.Delay(1000);
            nodeProfile = await Profiler.ProfileAsync(node.Process.Id, profile);
            Volatile.Write(ref profiling, false);
            profiledEvents = (await load).Events;
        }

        // Kafka: a backlog produced first (a partition per 50,000 records: the mock broker keeps 5 MB per partition), then a
        // connector reads it to the committed epoch.
        Progress("ingest: producing the Kafka backlog");
        var backlog = BankWorkload.Transfers(kafkaRecords, seed: 7, prefix: "k");
        var topics = BankTopics.For("ingest", kafkaRecords);
        var partitions = topics.Partitions;
        topics.Create(node.Kafka.BootstrapServers);
        await BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, topics, backlog, rate: 0);
        Progress("ingest: Kafka → ContextLake");
        usage = await NodeUsage.StartAsync(node);
        var started = Stopwatch.GetTimestamp();
        var streams = await node.AddTransferConnectorAsync("ingest", topics, ConnectorBatch, ConnectorBuffer);
        var visibility = new Visibility(new long[kafkaRecords]);
        await EpochWatcher.WatchAsync(node.Http, streams, visibility, kafkaRecords, TimeSpan.FromMinutes(5));
        var kafkaUsage = await usage.StopAsync();
        var kafkaIngested = await node.IngestedAsync("ingest");
        var kafkaRate = visibility.All && kafkaIngested >= kafkaRecords ? visibility.SteadyRate(started) : double.NaN;

        // The same backlog through Kafka → Redis, micro-batched (its own consumer group), in this run.
        Progress("ingest: Kafka → Redis");
        var pipeline = new RedisPipeline(redis, microBatch: true);
        await pipeline.ResetAsync();
        var redisVisibility = new Visibility(new long[kafkaRecords]);
        var redisStarted = Stopwatch.GetTimestamp();
        await pipeline.RunAsync(node.Kafka.BootstrapServers, topics, kafkaRecords, redisVisibility, TimeSpan.FromMinutes(5));
        var redisRate = redisVisibility.All ? redisVisibility.SteadyRate(redisStarted) : double.NaN;
        await pipeline.DisposeAsync();

        // The profile of the Kafka path: a second, smaller backlog (not in the figures) read while the node is profiled.
        NodeProfile? kafkaProfile = null;
        long kafkaProfiled = 0;
        if (profile > TimeSpan.Zero)
        {
            Progress("ingest: profile (Kafka backlog)");
            const int profiledRecords = 400_000;
            var profileTopics = BankTopics.For("ingest-profile", profiledRecords);
            profileTopics.Create(node.Kafka.BootstrapServers);
            await BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, profileTopics, BankWorkload.Transfers(profiledRecords, seed: 11, prefix: "p"), rate: 0);
            var profileStreams = await node.AddTransferConnectorAsync("profile", profileTopics, ConnectorBatch, ConnectorBuffer);
            await Task.Delay(2000);
            kafkaProfile = await Profiler.ProfileAsync(node.Process.Id, profile);
            await EpochWatcher.WatchAsync(node.Http, profileStreams, new Visibility(new long[profiledRecords]), profiledRecords, TimeSpan.FromMinutes(5));
            kafkaProfiled = await node.IngestedAsync("profile");
        }

        var ingested = warmed.Events + http.Events + profiledEvents + kafkaRecords + kafkaProfiled;
        var journal = JournalRows(node.Journal.Options);
        var rows = journal.Sum(j => j.Rows);
        var rowsPerEvent = rows / (double)ingested;

        md.AppendLine(Table(["path", "events", "seconds", "events/s committed"],
        [
            [$"HTTP, {Writers} writers, batches of {Batch} transfers (to the committed epoch covering the last answer)", $"{http.Events}", F(http.Seconds, "0.0"), F(http.EventsPerSecond, "0")],
            [$"Kafka backlog → ContextLake, {partitions} partition{(partitions == 1 ? "" : "s")}, connector batch {ConnectorBatch} (from the first committed record on; seconds include the connector's start)", $"{kafkaIngested}", F(kafkaUsage.Wall, "0.0"), F(kafkaRate, "0")],
            [$"the same backlog → Kafka → Redis, micro-batched (≤ {ServingStorePipeline.MaxBatch} records per batch; from the first applied record on)", $"{redisVisibility.Visible}", "", F(redisRate, "0")],
            [$"raw SQLite: 1 event per row ({F(single.MeanRowBytes, "0")} bytes), {SqliteRawRate.RowsPerTransaction} rows per transaction, WAL, synchronous=NORMAL", $"{single.Rows}", F(single.Seconds, "0.00"), F(single.EventsPerSecond, "0")],
            [$"raw SQLite: the same events {SqliteRawRate.Packed} per row ({F(packed.MeanRowBytes / 1024, "0.0")} KB), {SqliteRawRate.RowsPerTransaction} rows per transaction", $"{packed.Rows * packed.EventsPerRow}", F(packed.Seconds, "0.00"), F(packed.EventsPerSecond, "0")],
            [$"raw SQLite: {SqliteRawRate.Packed} events per row, 1 row per transaction, synchronous=FULL (SQLite's default, the journal's)", $"{committed.Rows * committed.EventsPerRow}", F(committed.Seconds, "0.00"), F(committed.EventsPerSecond, "0")],
        ]));
        md.AppendLine(Charts.Bars("ingest.png", "Ingest to committed (events/s)", "events/s",
            ["HTTP", "Kafka → CL", "Kafka → Redis batched", "SQLite 1/row", $"SQLite {SqliteRawRate.Packed}/row", "SQLite 1 row/commit"],
            [http.EventsPerSecond, kafkaRate, redisRate, single.EventsPerSecond, packed.EventsPerSecond, committed.EventsPerSecond], logScale: true));
        md.AppendLine();
        md.AppendLine($"The Kafka backlog is spread over {partitions} partition{(partitions == 1 ? "" : "s")} ({topics.Topics.Length} topic{(topics.Topics.Length == 1 ? "" : "s")} of {BankTopics.PerTopic}) of at most {BankWorkload.PerPartition:N0} records: " +
                      "librdkafka's mock broker keeps 5 MB per partition and drops older records silently, so one partition could not hold it; the node ingested " +
                      $"{kafkaIngested} of the {kafkaRecords} records (`contextlake_ingest_events_total`).");
        md.AppendLine();
        md.AppendLine($"Raw SQLite inserts {F(single.RowsPerSecond, "0")} rows/s of one event each and {F(packed.RowsPerSecond, "0")} rows/s of {SqliteRawRate.Packed} events " +
                      $"({F(packed.RowsPerSecond * packed.MeanRowBytes / 1e6, "0")} MB/s), in a table with the journal's columns and indexes; " +
                      "the node's journal runs SQLite's default synchronous=FULL through Akka.Persistence.Sql, the raw rate synchronous=NORMAL with nothing in between. " +
                      $"Committed one row per transaction at synchronous=FULL, SQLite takes {F(committed.RowsPerSecond, "0")} commits/s ({F(1000 / committed.RowsPerSecond)} ms each): " +
                      "the cost of one commit, which a journal row pays in full when the plugin has no other row queued to commit with it.");
        md.AppendLine();

        var aim = BacklogNote(kafkaRecords);
        Aims.Record("Kafka backlog ingest to committed, SQLite, each event 1 entity + 2 view keys: ≥ 100,000 ev/s",
            $"{F(kafkaRate, "0")} ev/s ({kafkaRecords} records{aim})", kafkaRate >= 100_000);
        Aims.Record($"HTTP ingest to committed, batches of {Batch}, {Writers} writers: ≥ 50,000 ev/s",
            $"{F(http.EventsPerSecond, "0")} ev/s ({http.Events} events in {F(http.Seconds, "0.0")} s)", http.EventsPerSecond >= 50_000);
        Aims.Record("journal rows per ingested event: ≤ 0.05", $"{F(rowsPerEvent, "0.0000")} ({rows} rows / {ingested} events)", rowsPerEvent <= 0.05);
        Aims.Record("Kafka backlog ingest at least the same run's Kafka → Redis micro-batched pipeline's (same records)",
            $"{F(kafkaRate, "0")} vs {F(redisRate, "0")} ev/s", kafkaRate >= redisRate);

        md.AppendLine("### Journal rows per event");
        md.AppendLine();
        md.AppendLine($"Counted in the node's journal after both ingest runs (`SELECT persistence_id, COUNT(*), SUM(LENGTH(message)) FROM journal GROUP BY persistence_id`, " +
                      $"partitions summed): {rows} rows for {ingested} events ingested (HTTP warm-up, measured{(profiledEvents > 0 ? ", profiled" : "")} and Kafka{(kafkaProfiled > 0 ? ", measured and profiled" : "")}), " +
                      $"**{F(rowsPerEvent, "0.0000")} rows per event**.");
        md.AppendLine();
        md.AppendLine(Table(["journal writer", "rows", "rows per event", "bytes", "bytes per event"],
            journal.Select(j => new[] { j.Writer, $"{j.Rows}", F(j.Rows / (double)ingested, "0.0000"), $"{j.Bytes}", F(j.Bytes / (double)ingested, "0") })
                .Append(["all", $"{rows}", F(rowsPerEvent, "0.0000"), $"{journal.Sum(j => j.Bytes)}", F(journal.Sum(j => j.Bytes) / (double)ingested, "0")])));

        md.AppendLine("### What limits these numbers");
        md.AppendLine();
        md.AppendLine($"**HTTP run** ({http.Events} events; the last answer came at {F(http.AnsweredSeconds, "0.0")} s, the epoch covering it at {F(http.Seconds, "0.0")} s):");
        md.AppendLine();
        md.AppendLine(httpUsage.Markdown("the HTTP run"));
        md.AppendLine();
        md.AppendLine($"**Kafka backlog** ({kafkaRecords} records{aim}):");
        md.AppendLine();
        md.AppendLine(kafkaUsage.Markdown("the Kafka backlog run"));
        md.AppendLine();
        var journalBytes = journal.Sum(j => j.Bytes);
        md.AppendLine($"The journal is not what SQLite can take: the node wrote {F(rows / Math.Max(1, httpUsage.Wall + kafkaUsage.Wall), "0")} rows/s on average over both runs against " +
                      $"SQLite's raw {F(packed.RowsPerSecond, "0")} rows/s of {SqliteRawRate.Packed} events, but every event costs {F(journalBytes / (double)ingested, "0")} journal bytes " +
                      $"(its entity row, the view partitions' changes, the HTTP write log) where the raw {SqliteRawRate.Packed}-event rows cost {F(packed.MeanRowBytes / SqliteRawRate.Packed, "0")} per event.");
        md.AppendLine();
        if (nodeProfile is not null)
        {
            md.AppendLine($"### Where the node's time goes: CPU profile under the HTTP load");
            md.AppendLine();
            md.AppendLine($"A second HTTP run of the same load (its events are not in the figures above) while `dotnet-trace collect-linux --profile cpu-sampling` " +
                          $"records the node process for {profile.TotalSeconds:0} s and `dotnet-counters` samples its runtime counters; the stacks are read with TraceEvent. " +
                          "Native runtime code (libcoreclr) has no symbols in the trace: it is the GC, allocation helpers, casts and stubs, and the GC's share of it is the pause time below.");
            md.AppendLine();
            md.AppendLine(nodeProfile.Markdown());
        }
        if (kafkaProfile is not null)
        {
            md.AppendLine("### Where the node's time goes: CPU profile under a Kafka backlog");
            md.AppendLine();
            md.AppendLine($"A second backlog of 400,000 records on 16 partitions (its events are not in the figures above, but in the journal row count) read by a second connector " +
                          $"while the node is profiled for {profile.TotalSeconds:0} s the same way. The node runs with `DOTNET_PerfMapEnabled=1`, so methods the JIT compiled again " +
                          "at tier 1 (the hottest ones) are named instead of appearing as anonymous code.");
            md.AppendLine();
            md.AppendLine(kafkaProfile.Markdown());
        }
        return md.ToString();
    }

    private static string BacklogNote(int records) => records >= 1_000_000 ? "" : ", smaller than the aim's million";

    /// <summary>Journal rows and bytes per writer: partitions of a region summed (entity-0 … entity-15 as entity-N), other writers by persistence id.</summary>
    private static List<(string Writer, long Rows, long Bytes)> JournalRows(ContextLake.Platform.Hosting.JournalOptions options)
    {
        using var conn = new ContextLake.Platform.Journal.JournalDatabase(options).CreateConnection();
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT persistence_id, COUNT(*), SUM(LENGTH(message)) FROM journal GROUP BY persistence_id";
        using var reader = cmd.ExecuteReader();
        var rows = new List<(string, long, long)>();
        while (reader.Read()) rows.Add((Regex.Replace(reader.GetString(0), @"-\d+$", "-N"), reader.GetInt64(1), reader.GetInt64(2)));
        return rows.GroupBy(r => r.Item1).Select(g => (g.Key, g.Sum(r => r.Item2), g.Sum(r => r.Item3))).OrderByDescending(r => r.Item2).ToList();
    }
}
