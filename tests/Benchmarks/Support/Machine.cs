// The machine and the method, as the report's opening section: read from the machine itself, never typed in.
using System.Text;

namespace ContextLake.Benchmarks.Support;

public static class Machine
{
    public static string Describe(bool quick, TimeSpan elapsedSoFar)
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
        md.AppendLine("- Latencies are measured by the client (Stopwatch), percentiles by nearest rank over every sample; the node's own `/metrics` histograms are used for the profiles.");
        return md.ToString();
    }
}
