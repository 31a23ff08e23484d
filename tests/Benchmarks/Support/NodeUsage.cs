// What bounds a figure, measured over the stretch of a scenario that produced it: the CPU time of the node process
// (/proc/PID/stat), of this benchmark process (load generators, librdkafka's mock brokers and clients, stores' clients)
// and of the whole machine (/proc/stat), the load average, and the node's own /metrics histograms over the same
// stretch: journal rows per region, events per row and time per row write, and runs from submit to applied everywhere.
using System.Globalization;
using System.Text;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Support;

public sealed class NodeUsage
{
    private static readonly string[] Regions = ["entity", "view", "vector", "epoch"];

    private readonly BenchNode _node;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly double _nodeCpu;
    private readonly double _ownCpu;
    private readonly double _machineCpu;
    private readonly string _metrics;

    private NodeUsage(BenchNode node, string metrics)
    {
        _node = node;
        _metrics = metrics;
        _nodeCpu = ProcessCpuSeconds(node.Process.Id);
        _ownCpu = OwnCpuSeconds();
        _machineCpu = MachineCpuSeconds();
    }

    public static async Task<NodeUsage> StartAsync(BenchNode node) => new(node, await GetText(node.Http, "metrics"));

    public async Task<UsageReport> StopAsync()
    {
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var (node, own, machine) = (ProcessCpuSeconds(_node.Process.Id) - _nodeCpu, OwnCpuSeconds() - _ownCpu, MachineCpuSeconds() - _machineCpu);
        var metrics = await GetText(_node.Http, "metrics");
        double Delta(string series) => Scraped(metrics, series) - Scraped(_metrics, series);
        var journal = Regions
            .Select(r => new RegionWrites(r,
                Delta($"contextlake_journal_write_seconds_count{{region=\"{r}\"}}"),
                Delta($"contextlake_journal_batch_events_sum{{region=\"{r}\"}}"),
                Delta($"contextlake_journal_write_seconds_sum{{region=\"{r}\"}}"),
                HistogramQuantile(_metrics, metrics, "contextlake_journal_write_seconds", $"region=\"{r}\"", 0.99)))
            .Where(r => r.Rows > 0)
            .ToList();
        return new UsageReport(wall, node, own, machine, Machine.LoadAverage(), journal,
            Delta("contextlake_apply_seconds_count{phase=\"run\"}"), Delta("contextlake_apply_seconds_sum{phase=\"run\"}"),
            HistogramQuantile(_metrics, metrics, "contextlake_apply_seconds", "phase=\"run\"", 0.99),
            [.. new[] { "0", "1", "2" }.Select(g => Delta($"dotnet_collection_count_total{{generation=\"{g}\"}}"))],
            Delta("contextlake_gc_pause_seconds_total"));
    }

    /// <summary>utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s).</summary>
    public static double ProcessCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    private static double OwnCpuSeconds()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Busy CPU time of the whole machine (every core), in seconds: /proc/stat's first line less idle and iowait.</summary>
    private static double MachineCpuSeconds()
    {
        if (!File.Exists("/proc/stat")) return double.NaN;
        var ticks = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return (ticks.Sum() - ticks[3] - ticks[4]) / 100.0;
    }

    /// <summary>A p99 read from histogram buckets: the bucket's upper bound, or past the last finite one.</summary>
    internal static string P99(double seconds) =>
        double.IsPositiveInfinity(seconds) ? "p99 past the histogram's largest bucket" : $"p99 ≤ {F(seconds * 1000, "0.#")} ms";

    /// <summary>The upper bound (seconds) of the histogram bucket holding quantile q of the observations between two scrapes.</summary>
    public static double HistogramQuantile(string before, string after, string histogram, string labels, double q)
    {
        var prefix = histogram + "_bucket{";
        Dictionary<double, double> Buckets(string metrics) => metrics.Split('\n')
            .Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains(labels, StringComparison.Ordinal))
            .Select(l =>
            {
                var le = l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
                le = le[..le.IndexOf('"')];
                return (Le: le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture),
                        Count: double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            })
            .GroupBy(b => b.Le).ToDictionary(g => g.Key, g => g.Sum(b => b.Count));
        var (b0, b1) = (Buckets(before), Buckets(after));
        var cumulative = b1.OrderBy(b => b.Key).Select(b => (b.Key, Count: b.Value - b0.GetValueOrDefault(b.Key))).ToList();
        if (cumulative.Count == 0 || cumulative[^1].Count <= 0) return double.NaN;
        var target = q * cumulative[^1].Count;
        return cumulative.First(b => b.Count >= target).Key;
    }
}

/// <summary>One region's journal rows over a stretch: rows written, events (or derived changes) in them, seconds spent writing them.</summary>
public sealed record RegionWrites(string Region, double Rows, double Events, double Seconds, double P99Seconds)
{
    public double EventsPerRow => Events / Rows;
    public double MeanMs => Seconds / Rows * 1000;
}

public sealed record UsageReport(
    double Wall, double NodeCpu, double OwnCpu, double MachineCpu, double LoadAverage,
    IReadOnlyList<RegionWrites> Journal, double Runs, double RunSeconds, double RunP99Seconds,
    IReadOnlyList<double> Collections, double GcPauseSeconds)
{
    private static int Cores => Environment.ProcessorCount;

    public double NodeCores => NodeCpu / Wall;
    public double OwnCores => OwnCpu / Wall;
    public double MachineCores => MachineCpu / Wall;
    public double OtherCores => Math.Max(0, MachineCores - NodeCores - OwnCores);
    public double RunMeanMs => RunSeconds / Math.Max(1, Runs) * 1000;

    /// <summary>True when the machine's cores were busy nearly all the stretch: the figure is bounded by CPU.</summary>
    public bool CpuBound => MachineCores >= 0.9 * Cores;

    /// <summary>The measurements as a Markdown table; for a throughput figure (<paramref name="throughput"/>), one sentence that says,
    /// from them, whether CPU bounded it.</summary>
    public string Markdown(string stretch, bool throughput = true)
    {
        var md = new StringBuilder();
        md.AppendLine(Table(["over " + stretch, "measured"],
        [
            ["wall time", F(Wall, "0.0") + " s"],
            ["node process CPU (/proc/PID/stat)", $"{F(NodeCpu, "0.0")} s = {F(NodeCores)} cores of {Cores}"],
            ["benchmark process CPU (load generator, mock Kafka brokers, clients)", $"{F(OwnCpu, "0.0")} s = {F(OwnCores)} cores"],
            ["whole machine busy (/proc/stat)", $"{F(MachineCores)} cores of {Cores} (other processes {F(OtherCores)})"],
            ["load average (1 min) at the end", F(LoadAverage, "0.0")],
            .. Journal.Select(r => r.Region == "epoch"
                ? new[]
                {
                    "journal rows, epoch coordinator",
                    $"{r.Rows:0} epochs ({F(r.Rows / Wall, "0")}/s), {F(r.MeanMs)} ms per epoch's write ({NodeUsage.P99(r.P99Seconds)})",
                }
                : new[]
                {
                    $"journal rows, {r.Region} partitions",
                    $"{r.Rows:0} rows ({F(r.Rows / Wall, "0")}/s), {F(r.EventsPerRow, "0.0")} {(r.Region == "entity" ? "events" : "changes")} per row, " +
                    $"{F(r.MeanMs)} ms per row write ({NodeUsage.P99(r.P99Seconds)})",
                }),
            ["node GC (`dotnet_collection_count_total`, `contextlake_gc_pause_seconds_total`)",
             // The runtime counts a collection of generation g under every generation up to g: gen0's count is all of them.
             $"{Collections[0]:0} collections ({Collections[0] - Collections[1]:0} gen0, {Collections[1] - Collections[2]:0} gen1, {Collections[2]:0} gen2); " +
             $"every thread paused {F(GcPauseSeconds * 1000, "0")} ms ({F(GcPauseSeconds / Wall * 100, "0.0")} % of the stretch), " +
             $"{F(GcPauseSeconds * 1000 / Math.Max(1, Collections[0]), "0.0")} ms per collection"],
            ["runs applied (`contextlake_apply_seconds{phase=\"run\"}`)", $"{Runs:0} runs, {F(RunMeanMs)} ms mean from submit to applied everywhere ({NodeUsage.P99(RunP99Seconds)})"],
        ]));
        if (!throughput) return md.ToString();
        md.AppendLine(CpuBound
            ? $"Bound: CPU. The machine's {Cores} cores were busy for {F(MachineCores / Cores * 100, "0")} % of the stretch: the node took {F(NodeCores)} cores, " +
              $"this benchmark process {F(OwnCores)}, other processes {F(OtherCores)}."
            : $"Bound: not CPU alone. The machine's {Cores} cores were busy for {F(MachineCores / Cores * 100, "0")} % of the stretch (node {F(NodeCores)}, this process {F(OwnCores)}, " +
              $"others {F(OtherCores)} cores): the rest is waiting, on the journal ({string.Join(", ", Journal.Select(r => $"{r.Region} rows {F(r.MeanMs)} ms each"))}) " +
              $"and on the run pipeline ({F(RunMeanMs)} ms per run from submit to applied).");
        return md.ToString();
    }
}
