// 5. Micro-benchmarks (BenchmarkDotNet, in this process): the aggregate algebra, the versioned read of a view
// key with its commit, and the event serializer, with allocations. Full: BenchmarkDotNet's short job; quick: its dry job (one pass).
using System.Text;
using ContextLake.Benchmarks.Micro;

namespace ContextLake.Benchmarks.MicroScenarios;

public static class MicroScenario
{
    public static Task<string> RunAsync(bool quick)
    {
        var artifacts = Directory.CreateTempSubdirectory("contextlake-bdn-").FullName;
        try
        {
            var md = new StringBuilder();
            md.AppendLine("## 5. Micro-benchmarks");
            md.AppendLine();
            md.AppendLine($"BenchmarkDotNet {typeof(BenchmarkDotNet.Running.BenchmarkRunner).Assembly.GetName().Version}, " +
                          $"{(quick ? "dry job (one invocation: proves the instrument, not a measurement)" : "short-run job (3 warm-ups, 3 iterations)")}, in-process toolchain, " +
                          "memory diagnoser (allocated bytes per operation). `apply one delta` is per delta (100 per invocation); " +
                          "`Versions` is how many epochs every one of 1,000 view keys changed in; a read takes the key's newest version at or before its epoch " +
                          "(the head of its version list at the latest epoch, a walk back for an as-of read) and reads the aggregate's values, as a decision read does " +
                          "for each view key; `commit` is per changed key, the work an epoch's arrival does in a view partition.");
            md.AppendLine();
            md.AppendLine(MicroSuite.RunAsMarkdown(quick, artifacts));
            md.AppendLine("### What limits this number");
            md.AppendLine();
            md.AppendLine("The aggregates keep their state in immutable sorted sets (O(1) clone for MVCC reads), so an apply allocates new tree nodes; " +
                          "the ordered aggregates (MAX, LAST, AVG beside them) keep a multiset of values per pane and pay for it on every delta. " +
                          "A read at the latest epoch costs the same whatever the write rate; an as-of read walks one version per epoch the key changed in since, which the history horizon bounds. " +
                          "The serializer is source-generated System.Text.Json; deserializing parses the event's data into a JsonElement.");
            md.AppendLine();
            return Task.FromResult(md.ToString());
        }
        finally
        {
            try { Directory.Delete(artifacts, recursive: true); } catch (IOException) { }
        }
    }
}
