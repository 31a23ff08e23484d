// The benchmark suite's --quick run, end to end as a process: every scenario reports its section with
// measured numbers and charts, the aims are judged, and ContextLake's decision reads never break the bank invariant.
using System.Text.RegularExpressions;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Benchmarks.Tests;

public sealed class QuickSuiteSpec(ITestOutputHelper output)
{
    private static readonly string[] Sections =
    [
        "## Machine and method", "## 1. Ingest to committed (", "## 2. Freshness", "## 3. Decision reads", "## 4. The comparison", "## 5. Micro-benchmarks",
        "## 6. Memory per entity and restart", "## 10. Overload",
    ];

    [Fact]
    public async Task the_quick_suite_reports_every_scenario_with_numbers_and_charts()
    {
        var outDir = Directory.CreateTempSubdirectory("contextlake-bench-quick-").FullName;
        try
        {
            var (exit, log) = await RunSuite(outDir, TimeSpan.FromMinutes(8));
            var report = await File.ReadAllTextAsync(Path.Combine(outDir, "benchmarks.md"));
            output.WriteLine(report);
            Assert.True(exit == 0, $"the suite exited with {exit}:\n{log[Math.Max(0, log.Length - 6000)..]}");
            Assert.DoesNotContain("**failed**", report, StringComparison.Ordinal);

            var headings = Sections.Select(s => (s, report.IndexOf(s, StringComparison.Ordinal))).ToList();
            foreach (var (section, at) in headings) Assert.True(at >= 0, $"no section {section} in the report");
            for (var i = 1; i < headings.Count; i++)
            {
                var end = i + 1 < headings.Count ? headings[i + 1].Item2 : report.Length;
                var body = report[headings[i].Item2..end];
                // A table row whose cells include a measured decimal number, not only labels.
                Assert.Matches(new Regex(@"^\|[^\n]*\| \d+\.\d+ \|", RegexOptions.Multiline), body);
                Assert.DoesNotContain("| NaN |", body, StringComparison.Ordinal);
            }

            // The summary judges each of the issue's aims on this run's figures: ingest (Kafka, HTTP, journal rows, beside Redis),
            // freshness, reads (HTTP p99 and reads/s, RESP MGET beside Redis, under ingest), coherence, memory per entity and restart,
            // and the overload's memory bound with its every-200-committed check.
            Assert.Equal(13, Regex.Matches(report, @"^\|[^\n]*\| (yes|\*\*no\*\*) \|$", RegexOptions.Multiline).Count);

            var contextLake = Regex.Match(report, @"^\| ContextLake \(Kafka connector\) \|.*\| (\d+) \| (\d+) \|$", RegexOptions.Multiline);
            Assert.True(contextLake.Success, "no ContextLake row in the comparison");
            Assert.Equal("0", contextLake.Groups[1].Value);

            foreach (var chart in Regex.Matches(report, @"!\[[^\]]*\]\(([^)]+\.png)\)").Select(m => m.Groups[1].Value))
                Assert.True(new FileInfo(Path.Combine(outDir, chart)).Length > 1000, $"chart {chart} is missing or empty");
            Assert.True(Regex.Matches(report, @"!\[").Count >= 7, "fewer charts than scenarios call for");
        }
        finally
        {
            try { Directory.Delete(outDir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(int Exit, string Log)> RunSuite(string outDir, TimeSpan timeout)
    {
        var (exit, log) = await Command.RunAsync("dotnet", [SuiteDll(), "--quick", "--out", outDir], timeout);
        return exit == -2 ? throw new TimeoutException($"the quick suite did not finish within {timeout}:\n{log}") : (exit, log);
    }

    private static string SuiteDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ContextLake.sln"))) dir = dir.Parent;
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(dir!.FullName, "tests", "Benchmarks", "bin", configuration, "net10.0", "ContextLake.Benchmarks.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the solution first: {dll} is missing");
    }
}
