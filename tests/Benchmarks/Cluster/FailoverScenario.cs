// Failover with the defaults a user keeps (issue 15): three node processes on one PostgreSQL journal, nothing tuned; five
// times, SIGKILL of the oldest node (the singletons' host) under writes and reads through the survivors, then the killed
// node started again (it rejoins as the youngest; the next run kills the new oldest, which now holds the partitions it took
// over). Per run: from the SIGKILL to the first acknowledged write sent after it, to the first answered strict read of a
// key whose partition lived on the killed node, and the longest wait for a stale-ok read of such a key; beside them what
// the survivors' takeover telemetry reported. --quick leaves it out: each run waits for failure detection and downing.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContextLake.Platform.State;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Cluster;

public static partial class FailoverScenario
{
    private const int Runs = 5;

    private sealed record Run(int Victim, int KeysOnVictim, TimeSpan? Write, TimeSpan? Strict, TimeSpan StaleOk, double SingletonsReady, double PartitionsReady, int Takeovers);

    public static async Task<string> RunAsync(bool quick)
    {
        var report = new StringBuilder();
        report.AppendLine("## Failover (three nodes, PostgreSQL journal, default cluster timings)");
        report.AppendLine();
        if (quick)
        {
            report.AppendLine("Measured in the full run only (`--only failover`): each run waits for failure detection and downing.");
            return report.ToString();
        }
        using var kafka = new ContextLake.Connectors.Kafka.MockKafkaCluster();
        await ContextLake.Benchmarks.Support.SuitePostgres.EnsureAsync();
        await using var journal = PostgresTestJournal.Create();
        var environment = new Dictionary<string, string>(journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
        };
        await using var cluster = await NodeCluster.StartAsync(3, environment);
        var runs = new List<Run>();
        for (var r = 0; r < Runs; r++) runs.Add(await KillOldest(cluster, r));

        static string S(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) : "—";
        static string P50(IEnumerable<double> xs)
        {
            var sorted = xs.Order().ToList();
            return sorted.Count == 0 ? "—" : sorted[(sorted.Count - 1) / 2].ToString("0.0", CultureInfo.InvariantCulture);
        }
        static string Max(IEnumerable<double> xs) => xs.DefaultIfEmpty(double.NaN).Max() is var m && !double.IsNaN(m) ? m.ToString("0.0", CultureInfo.InvariantCulture) : "—";
        var missed = runs.Count(x => x.Write is null || x.Strict is null);
        report.AppendLine($"{Runs} runs on one cluster: SIGKILL of the oldest node (the singletons' host) while two writers send batches of transfers " +
                          "(idempotency keys, sent again to the other survivor until acknowledged), a new probe write every 250 ms after the kill, and four strict readers and one stale-ok reader read, " +
                          "through the survivors, transfers whose partitions lived on the killed node; then the node is started again and rejoins. " +
                          "Times are from the SIGKILL; the takeover columns are the survivors' own `takeover:` figures, from when they saw the node unreachable. " +
                          "Every node, PostgreSQL and the load share this machine's cores.");
        report.AppendLine();
        report.AppendLine("| measure (s) | p50 | max |");
        report.AppendLine("| --- | ---: | ---: |");
        report.AppendLine($"| first acknowledged write sent after the kill | {P50(runs.Where(x => x.Write is not null).Select(x => x.Write!.Value.TotalSeconds))} | {Max(runs.Where(x => x.Write is not null).Select(x => x.Write!.Value.TotalSeconds))} |");
        report.AppendLine($"| first answered strict read of a key that lived on the killed node | {P50(runs.Where(x => x.Strict is not null).Select(x => x.Strict!.Value.TotalSeconds))} | {Max(runs.Where(x => x.Strict is not null).Select(x => x.Strict!.Value.TotalSeconds))} |");
        report.AppendLine($"| longest stale-ok read pause (a key that lived on the killed node) | {P50(runs.Select(x => x.StaleOk.TotalSeconds))} | {Max(runs.Select(x => x.StaleOk.TotalSeconds))} |");
        report.AppendLine($"| singletons recovered on the new oldest, after unreachable (telemetry) | {P50(runs.Select(x => x.SingletonsReady))} | {Max(runs.Select(x => x.SingletonsReady))} |");
        report.AppendLine($"| last partition recovered on a survivor, after unreachable (telemetry) | {P50(runs.Select(x => x.PartitionsReady))} | {Max(runs.Select(x => x.PartitionsReady))} |");
        report.AppendLine();
        report.AppendLine("| run | node killed | its keys read | write | strict read | stale-ok pause | takeovers |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var i = 0; i < runs.Count; i++)
            report.AppendLine($"| {i + 1} | {runs[i].Victim} | {runs[i].KeysOnVictim} | {S(runs[i].Write)} | {S(runs[i].Strict)} | {S(runs[i].StaleOk)} | {runs[i].Takeovers} |");
        if (missed > 0) report.AppendLine($"\n{missed} run(s) saw no acknowledged write or no answered strict read within 60 s (—).");
        report.AppendLine();
        return report.ToString();
    }

    private static async Task<Run> KillOldest(NodeCluster cluster, int run)
    {
        for (var i = 0; i < cluster.Size; i++)
            if (!cluster.IsRunning(i)) await cluster.StartNodeAsync(i);
        var (_, members) = await Get(cluster[0], "admin/cluster/members");
        var victim = IndexOf(cluster, members.GetProperty("oldest").GetString()!);
        var survivors = Enumerable.Range(0, cluster.Size).Where(i => i != victim).ToArray();
        var placement = await Placement(cluster, survivors[0]);
        var partitions = placement.Count;

        // Transfers written before the kill: their entity partitions are known, so are the ones on the victim.
        var random = new Random(run);
        var onVictim = new List<string>();
        for (var b = 0; b < 40 && onVictim.Count < 8; b++)
        {
            var transfers = Enumerable.Range(0, 5).Select(_ => Transfer(random, $"r{run}-pre-{b}-{Guid.NewGuid():N}")).ToArray();
            if (await Post(cluster[survivors[b % 2]], "v1/events", Events(transfers), TimeSpan.FromSeconds(30)) is not (200, _)) continue;
            onVictim.AddRange(transfers.Select(t => JsonSerializer.SerializeToElement(t).GetProperty("id").GetString()!)
                .Where(id => placement.GetValueOrDefault(KeyGroups.PartitionOf($"transfer/{id}", partitions), -1) == victim));
        }
        var output = survivors.Select(i => (Node: cluster[i], From: cluster[i].Output.Length)).ToArray();

        var clock = Stopwatch.StartNew();
        var stop = false;
        var writes = new List<(TimeSpan Start, TimeSpan End)>();
        var strict = new List<(TimeSpan Start, TimeSpan End)>();
        var stale = new List<(TimeSpan Start, TimeSpan End)>();
        var tasks = new List<Task>();
        for (var w = 0; w < 2; w++)
        {
            var writer = w;
            tasks.Add(Task.Run(async () =>
            {
                var mine = new Random(100 * run + writer);
                for (var b = 0; !Volatile.Read(ref stop); b++)
                {
                    var body = Events(Enumerable.Range(0, 2).Select(i => Transfer(mine, $"r{run}-w{writer}-b{b}-e{i}")));
                    for (var node = writer; !Volatile.Read(ref stop); node++)
                    {
                        var start = clock.Elapsed;
                        if (await Post(cluster[survivors[node % 2]], "v1/events", body, TimeSpan.FromSeconds(15)) is (200, _))
                        {
                            lock (writes) writes.Add((start, clock.Elapsed));
                            break;
                        }
                        await Task.Delay(50);
                    }
                }
            }));
        }
        var keys = onVictim.Count > 0 ? onVictim : ["none"];
        // A strict answer counts from its own attempt (the first answered after the kill); a stale-ok one from the reader's
        // first attempt since its previous answer (how long the reader waited).
        void Reader(List<(TimeSpan, TimeSpan)> answers, string consistency, int index, int delay) => tasks.Add(Task.Run(async () =>
        {
            await Task.Delay(delay);
            TimeSpan? since = null;
            for (var i = index; !Volatile.Read(ref stop); i++)
            {
                var start = clock.Elapsed;
                if (consistency != "stale-ok" || since is null) since = start;
                var body = JsonSerializer.Serialize(new { reads = new[] { new { entity = $"transfer/{keys[i % keys.Count]}" } }, consistency, timeout = "1s" });
                if (await Post(cluster[survivors[i % 2]], "v1/read", body, TimeSpan.FromSeconds(3)) is (200, _))
                {
                    lock (answers) answers.Add((since.Value, clock.Elapsed));
                    since = null;
                }
                await Task.Delay(20);
            }
        }));
        for (var r = 0; r < 4; r++) Reader(strict, "committed", r, 250 * r);
        Reader(stale, "stale-ok", 0, 0);

        await Task.Delay(1500);
        var killedAt = clock.Elapsed;
        await cluster.KillAsync(victim);
        // Requests sent between the signal and the process's end may still be answered by it: only those sent after count.
        var deadAt = clock.Elapsed;
        // The writers' requests that went to the lost write log wait out their timeout; when writes are taken again is measured
        // by probes: a new write every 250 ms for 20 s, each sent again (same key) until acknowledged.
        tasks.Add(Task.Run(async () =>
        {
            var probes = new List<Task>();
            for (var p = 0; clock.Elapsed - deadAt < TimeSpan.FromSeconds(20) && !Volatile.Read(ref stop); p++)
            {
                var probe = p;
                probes.Add(Task.Run(async () =>
                {
                    var body = Events([Transfer(new Random(probe), $"r{run}-probe-{probe}")]);
                    for (var node = probe; ; node++)
                    {
                        var start = clock.Elapsed;
                        if (await Post(cluster[survivors[node % 2]], "v1/events", body, TimeSpan.FromSeconds(15)) is (200, _))
                        {
                            lock (writes) writes.Add((start, clock.Elapsed));
                            return;
                        }
                        if (Volatile.Read(ref stop)) return;
                        await Task.Delay(100);
                    }
                }));
                await Task.Delay(250);
            }
            await Task.WhenAll(probes);
        }));
        TimeSpan? First(List<(TimeSpan Start, TimeSpan End)> list)
        {
            lock (list) return list.Where(x => x.Start >= deadAt).Select(x => (TimeSpan?)(x.End - killedAt)).Min();
        }
        while (clock.Elapsed - killedAt < TimeSpan.FromSeconds(60) && (First(writes) is null || First(strict) is null)) await Task.Delay(50);
        await Task.Delay(2000);
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);
        TimeSpan staleOk;
        lock (stale) staleOk = stale.Where(x => x.End >= killedAt).Select(x => x.End - x.Start).DefaultIfEmpty(TimeSpan.Zero).Max();

        var lines = output.SelectMany(o => o.Node.Output[o.From..].Split('\n')).Where(l => l.Contains("takeover: ", StringComparison.Ordinal)).ToList();
        bool IsPartition(string line) => line.Contains("takeover: entity-", StringComparison.Ordinal) || line.Contains("takeover: view-", StringComparison.Ordinal);
        double Ready(bool singleton) => lines.Where(l => IsPartition(l) != singleton)
            .Select(l => ReadyAfter().Match(l)).Where(m => m.Success).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(double.NaN).Max();
        var result = new Run(victim, onVictim.Count, First(writes), First(strict), staleOk, Ready(singleton: true), Ready(singleton: false), lines.Count);
        Console.Error.WriteLine($"benchmarks: failover run {run + 1}: node {victim} killed; write {result.Write?.TotalSeconds:0.0} s, strict read {result.Strict?.TotalSeconds:0.0} s, " +
                                $"stale-ok pause {result.StaleOk.TotalSeconds:0.0} s, {result.Takeovers} takeovers");
        await cluster.StartNodeAsync(victim);
        return result;
    }

    [GeneratedRegex(@"ready on this node ([0-9.]+) s after")]
    private static partial Regex ReadyAfter();

    private static int IndexOf(NodeCluster cluster, string address) =>
        cluster.SeedNodes.ToList().FindIndex(s => string.Equals(s, address.TrimEnd('/'), StringComparison.Ordinal));

    /// <summary>Entity partition → index of the node hosting it, as sharding reports it.</summary>
    private static async Task<Dictionary<int, int>> Placement(NodeCluster cluster, int asking)
    {
        var (_, stats) = await Get(cluster[asking], "admin/sharding/regions/entity");
        var placement = new Dictionary<int, int>();
        foreach (var node in stats.GetProperty("nodes").EnumerateArray())
            foreach (var shard in node.GetProperty("shards").EnumerateArray())
                placement[KeyGroups.ParseId(shard.GetProperty("id").GetString()!)] = IndexOf(cluster, node.GetProperty("address").GetString()!);
        return placement;
    }

    private static object Transfer(Random random, string key)
    {
        var from = random.Next(5);
        var to = (from + 1 + random.Next(4)) % 5;
        return new { type = "transfer", id = Guid.NewGuid().ToString("N"), key, data = new { from_account = $"a{from}", to_account = $"a{to}", amount = random.Next(1, 1000) } };
    }

    private static string Events(IEnumerable<object> events) => JsonSerializer.Serialize(new { events = events.ToArray() });

    private static async Task<(int Status, JsonElement Body)> Get(NodeProcess node, string path)
    {
        using var response = await node.Http.GetAsync(path);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>Status 0 when the node refused, did not answer in <paramref name="timeout"/>, or is not running.</summary>
    private static async Task<(int Status, JsonElement Body)> Post(NodeProcess node, string path, string json, TimeSpan timeout)
    {
        try
        {
            using var cancel = new CancellationTokenSource(timeout);
            using var response = await node.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), cancel.Token);
            var text = await response.Content.ReadAsStringAsync(cancel.Token);
            return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException or JsonException or InvalidOperationException)
        {
            return (0, default);
        }
    }
}
