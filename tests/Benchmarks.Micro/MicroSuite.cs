// Runs every micro-benchmark in this process (in-process toolchain: no generated project to build) with
// allocations, and renders one Markdown table. Full: BenchmarkDotNet's short job; quick: its dry job.
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ContextLake.Benchmarks.Micro;

public static class MicroSuite
{
    public static readonly Type[] Benchmarks =
    [
        typeof(AggregateAlgebraBenchmarks),
        typeof(VersionedReadBenchmarks),
        typeof(EventSerializerBenchmarks),
    ];

    public static string RunAsMarkdown(bool quick, string artifacts)
    {
        var job = (quick ? Job.Dry : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .WithArtifactsPath(artifacts)
            // The quick run comes from Debug builds in the test suite; its numbers only prove the instrument.
            .WithOptions(ConfigOptions.DisableOptimizationsValidator | ConfigOptions.JoinSummary);
        var summaries = BenchmarkRunner.Run(Benchmarks, config);

        var table = new StringBuilder();
        table.AppendLine("| benchmark | method | parameters | mean ns/op | error ns | allocated B/op |");
        table.AppendLine("| --- | --- | --- | ---: | ---: | ---: |");
        foreach (var summary in summaries)
            foreach (var report in summary.Reports)
            {
                var bench = report.BenchmarkCase;
                var stats = report.ResultStatistics;
                var allocated = report.GcStats.GetBytesAllocatedPerOperation(bench);
                table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {bench.Descriptor.Type.Name.Replace("Benchmarks", "")} | {bench.Descriptor.WorkloadMethodDisplayInfo.Trim('\'')} | {(bench.HasParameters ? bench.Parameters.DisplayInfo : "")} | {(stats is null ? "failed" : stats.Mean.ToString("0.0", CultureInfo.InvariantCulture))} | {(stats is null ? "" : stats.StandardError.ToString("0.0", CultureInfo.InvariantCulture))} | {(allocated is { } a ? a.ToString(CultureInfo.InvariantCulture) : "n/a")} |"));
            }
        return table.ToString();
    }
}
