// The machine and the method, as the report's opening section: read from the machine itself, never typed in.
using System.Text;

namespace ContextLake.Benchmarks.Support;

public static class Machine
{
    /// <summary>The 1-minute load average (/proc/loadavg): how busy the machine was with everything, this suite included.</summary>
    public static double LoadAverage() =>
        File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var l) ? l : double.NaN;

    public static string Describe(bool quick, TimeSpan elapsed, double loadBefore, double loadAfter)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var md = new StringBuilder();
        md.AppendLine("## Machine and method");
        md.AppendLine();
        md.AppendLine($"- Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, mode **{(quick ? "quick (every scenario briefly: the numbers only prove the instruments)" : "full")}**.");
        md.AppendLine($"- {Environment.ProcessorCount} logical cores ({cpu ?? "unknown CPU"}), {memory ?? "unknown"} memory, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
                      $".NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC in the load generator.");
        md.AppendLine("- One ContextLake node process per scenario (the built `ContextLake.Gateway.dll`, Release when the suite runs in Release), on a fresh SQLite journal, " +
                      "with librdkafka's mock Kafka cluster (in the benchmark process) as its Kafka; redis-server (Debian) and PostgreSQL 15 on loopback for the comparison. " +
                      "The load generators, Kafka, the node and the stores all share the same cores: every number below is for everything on one box.");
        md.AppendLine($"- Load average (1 min) {Bench.F(loadBefore, "0.0")} when the suite started and {Bench.F(loadAfter, "0.0")} when it ended, on {Environment.ProcessorCount} cores; " +
                      $"the suite took {Bench.F(elapsed.TotalMinutes, "0.0")} minutes. A load well above the core count means other work shared the machine and every figure is lower (or slower) than the box alone would give.");
        md.AppendLine("- Latencies are measured by the client (Stopwatch), percentiles by nearest rank over every sample; the node's own `/metrics` histograms are used for the profiles.");
        return md.ToString();
    }
}
