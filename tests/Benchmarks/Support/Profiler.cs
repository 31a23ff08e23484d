// A CPU profile of the node process while a scenario loads it. dotnet-trace and dotnet-counters are .NET tools (installed
// with `dotnet tool install -g` when missing, into ~/.dotnet/tools). dotnet-trace records `collect-linux --profile
// cpu-sampling` (perf-based, as root; EventPipe's own cpu-sampling records no stacks on this machine) and TraceFrames reads
// its stacks; dotnet-counters samples System.Runtime (GC pause time, allocation rate, lock contention, memory) over the same
// seconds. A tool that is missing or fails makes a report that says so, never a failed scenario.
using System.Globalization;
using System.Text;
using ContextLake.Testing;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Support;

/// <summary>Means over a dotnet-counters recording: GC pause share, allocation rate, contention, CPU, memory.</summary>
public sealed record RuntimeCounters(double GcPausePercent, double AllocatedMBPerSecond, double ContentionsPerSecond, double CpuCores, double WorkingSetMB, double GcHeapMB);

public sealed record NodeProfile(TimeSpan Duration, TraceFrames? Frames, RuntimeCounters? Counters, IReadOnlyList<string> Problems)
{
    public string Markdown()
    {
        var md = new StringBuilder();
        foreach (var p in Problems) md.AppendLine($"- {p}");
        if (Problems.Count > 0) md.AppendLine();
        if (Counters is { } c)
        {
            md.AppendLine(Table(["runtime counter (dotnet-counters, System.Runtime, mean over the profile)", "value"],
            [
                ["GC pause time", F(c.GcPausePercent, "0.0") + " % of wall time"],
                ["allocation rate", F(c.AllocatedMBPerSecond, "0") + " MB/s"],
                ["monitor lock contentions per second", F(c.ContentionsPerSecond, "0")],
                ["process CPU", F(c.CpuCores) + " cores"],
                ["working set", F(c.WorkingSetMB, "0") + " MB"],
                ["managed heap after the last GC (all generations)", F(c.GcHeapMB, "0") + " MB"],
            ]));
        }
        if (Frames is { } f)
        {
            md.AppendLine($"{f.Samples} CPU samples of the node process over {Duration.TotalSeconds:0} s. Layers (a sample's leaf frame is exclusive; every layer on its stack is inclusive):");
            md.AppendLine();
            md.AppendLine(Table(["layer", "exclusive %", "inclusive %"], f.Layers.Select(l => new[] { l.Layer, F(l.Exclusive, "0.0"), F(l.Inclusive, "0.0") })));
            md.AppendLine(Table(["top frames, exclusive", "layer", "%"], f.Exclusive.Select(x => new[] { Code(x.Frame), x.Layer, F(x.Percent, "0.0") }), leftColumns: 2));
            md.AppendLine(Table(["top managed frames, inclusive", "layer", "%"], f.Inclusive.Select(x => new[] { Code(x.Frame), x.Layer, F(x.Percent, "0.0") }), leftColumns: 2));
            md.AppendLine(Table(["top frames of our code (ContextLake.*), inclusive", "%"], f.OursInclusive.Select(x => new[] { Code(x.Frame), F(x.Percent, "0.0") })));
        }
        return md.ToString();
    }

    private static string Code(string frame) => "`" + frame.Replace("`", "'", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal) + "`";
}

public static class Profiler
{
    private static readonly string ToolsDirectory = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools");

    /// <summary>Profiles process <paramref name="pid"/> for <paramref name="duration"/> while the caller's load runs; files go to a temporary folder.</summary>
    public static async Task<NodeProfile> ProfileAsync(int pid, TimeSpan duration)
    {
        var problems = new List<string>();
        var dir = Directory.CreateTempSubdirectory("contextlake-profile-").FullName;
        try
        {
            var trace = await ToolAsync("dotnet-trace", problems);
            var traceFile = Path.Combine(dir, "node.nettrace");
            var tracing = trace is null ? Task.FromResult((-1, "")) :
                Command.RunAsync(trace, ["collect-linux", "-p", $"{pid}", "--profile", "cpu-sampling", "--duration", Span(duration), "-o", traceFile],
                    duration + TimeSpan.FromMinutes(2));
            var (runtime, countersProblem) = await CountersAsync(pid, duration);
            var (traceExit, traceOutput) = await tracing;
            if (countersProblem is not null) problems.Add(countersProblem);

            TraceFrames? frames = null;
            if (trace is not null && (traceExit != 0 || !File.Exists(traceFile)))
                problems.Add($"`dotnet-trace collect-linux` recorded no profile (exit {traceExit}): {Last(traceOutput)}");
            else if (trace is not null)
            {
                try
                {
                    frames = await Task.Run(() => TraceFrames.Read(traceFile, pid, top: 15));
                    if (frames.Samples == 0) problems.Add("the trace held no CPU samples with stacks");
                }
                catch (Exception ex)
                {
                    problems.Add($"the trace could not be read: {ex.GetType().Name}: {ex.Message}");
                }
            }
            return new NodeProfile(duration, frames, runtime, problems);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>dotnet-counters' System.Runtime counters of process <paramref name="pid"/>, sampled every second for <paramref name="duration"/>; or why not.</summary>
    public static async Task<(RuntimeCounters? Counters, string? Problem)> CountersAsync(int pid, TimeSpan duration)
    {
        var problems = new List<string>();
        var counters = await ToolAsync("dotnet-counters", problems);
        if (counters is null) return (null, problems[0]);
        var file = Path.Combine(Path.GetTempPath(), $"contextlake-counters-{Guid.NewGuid():N}.csv");
        try
        {
            var (exit, output) = await Command.RunAsync(counters, ["collect", "-p", $"{pid}", "--counters", "System.Runtime", "--format", "csv",
                "--refresh-interval", "1", "--duration", Span(duration), "-o", file], duration + TimeSpan.FromMinutes(1));
            return exit == 0 && File.Exists(file)
                ? (ReadCounters(file), null)
                : (null, $"`dotnet-counters collect` recorded nothing (exit {exit}): {Last(output)}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Span(TimeSpan duration) => duration.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>The tool's path: on PATH, in ~/.dotnet/tools, or installed there now; null (and a problem) when it cannot be had.</summary>
    private static async Task<string?> ToolAsync(string name, List<string> problems)
    {
        string? Find() => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append(ToolsDirectory)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        if (Find() is { } found) return found;
        Console.Error.WriteLine($"benchmarks: installing {name} (dotnet tool install -g {name})");
        var (exit, output) = await Command.RunAsync("dotnet", ["tool", "install", "-g", name], TimeSpan.FromMinutes(5));
        if (Find() is { } installed) return installed;
        problems.Add($"{name} is not installed and `dotnet tool install -g {name}` failed (exit {exit}): {Last(output)}");
        return null;
    }

    private static string Last(string output) =>
        string.Join(" ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));

    /// <summary>Means of the System.Runtime counters in a dotnet-counters CSV (Timestamp, Provider, Counter Name, Counter Type, Mean/Increment).</summary>
    private static RuntimeCounters ReadCounters(string csv)
    {
        var values = File.ReadLines(csv).Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f.Length >= 5 && double.TryParse(f[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            .GroupBy(f => string.Join(",", f[2..^2]))
            .ToDictionary(g => g.Key, g => g.Average(f => double.Parse(f[^1], NumberStyles.Float, CultureInfo.InvariantCulture)));
        double Mean(string counter) => values.Where(v => v.Key.StartsWith(counter, StringComparison.Ordinal)).Sum(v => v.Value);
        return new RuntimeCounters(
            Mean("dotnet.gc.pause.time") * 100,
            Mean("dotnet.gc.heap.total_allocated") / 1e6,
            Mean("dotnet.monitor.lock_contentions"),
            Mean("dotnet.process.cpu.time"),
            Mean("dotnet.process.memory.working_set") / 1e6,
            Mean("dotnet.gc.last_collection.heap.size") / 1e6);
    }
}
