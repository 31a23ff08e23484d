// The commands the README and docs/*.md show are run, so the pages cannot drift from the product: every shell block
// marked runnable (```sh runnable) runs with bash -euo pipefail, page by page in the order a reader meets them, against
// one real node on a fresh SQLite journal, and prints what the page shows it printing. The node's addresses stand in
// for the default ones the pages use; the built contextlake tool is on the path.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Docs;

public sealed partial class DocsCommandsSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan BlockTimeout = TimeSpan.FromSeconds(45);

    /// <summary>The node the pages run against, its journal in {work}/data so that `sqlite3 data/journal.db` finds it.</summary>
    private sealed class DocsNode(string dataDirectory) : SqliteNodeLifetime
    {
        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["ContextLake__Journal__DataDirectory"] = dataDirectory,
        };
    }

    [Fact]
    public async Task every_runnable_shell_block_runs_against_a_node_and_prints_what_it_shows()
    {
        var clock = Stopwatch.StartNew();
        var pages = Documentation.Pages();
        var runnable = pages.SelectMany(p => p.Blocks).Where(b => b.IsRunnable).ToList();
        Assert.NotEmpty(runnable);
        foreach (var page in pages.Where(p => p.Blocks.Any(b => b.IsShell)))
            output.WriteLine($"{page.Name}: {page.Blocks.Count(b => b.IsRunnable)} runnable shell blocks, {page.Blocks.Count(b => b.IsShell && !b.IsRunnable)} not");

        var work = Directory.CreateTempSubdirectory("contextlake-docs-").FullName;
        var node = new DocsNode(Path.Combine(work, "data"));
        try
        {
            await node.InitializeAsync();
            output.WriteLine($"node ready after {clock.Elapsed.TotalSeconds:0.0} s");
            var tools = Directory.CreateDirectory(Path.Combine(work, "bin")).FullName;
            var contextlake = Path.Combine(tools, "contextlake");
            await File.WriteAllTextAsync(contextlake, $"#!/bin/sh\nexec dotnet '{ToolProcess.ToolDll}' \"$@\"\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(contextlake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var kafka = EmbeddedKafka().Match(node.Node.Output);
            Assert.True(kafka.Success, $"the node did not print its embedded Kafka's address:\n{node.Node.Output}");
            var http = $"127.0.0.1:{node.Node.Port}";
            string Substitute(string line) => line
                .Replace("localhost:8080", http, StringComparison.Ordinal)
                .Replace("127.0.0.1:8080", http, StringComparison.Ordinal)
                .Replace("-p 6380", $"-p {node.Node.RespPort}", StringComparison.Ordinal)
                .Replace("127.0.0.1:6380", node.Node.RespEndpoint, StringComparison.Ordinal)
                .Replace("127.0.0.1:PORT", kafka.Groups["address"].Value, StringComparison.Ordinal);
            var prologue = $"""
                cd '{work}'
                unset CONTEXTLAKE_TOKEN
                export CONTEXTLAKE_URL='{node.Node.BaseAddress}'
                export PATH='{tools}':"$PATH"
                exec 2>&1
                """;

            var failures = new List<string>();
            foreach (var block in runnable)
            {
                var blockClock = Stopwatch.StartNew();
                var steps = BlockStep.Of(block);
                var script = new StringBuilder(prologue).Append('\n');
                for (var s = 0; s < steps.Count; s++)
                {
                    script.Append($"printf '\\n::step {s}::\\n'\n");
                    foreach (var command in steps[s].Commands) script.Append(Substitute(command)).Append('\n');
                }
                var file = Path.Combine(work, $"block-{block.Line}.sh");
                await File.WriteAllTextAsync(file, script.ToString());
                var (code, printed) = await Command.RunAsync("bash", ["-euo", "pipefail", file], BlockTimeout);

                // What each step printed: the text after its marker, up to the next one.
                var outputs = new Dictionary<int, string>();
                var markers = StepMarker().Matches(printed);
                for (var m = 0; m < markers.Count; m++)
                {
                    var end = m + 1 < markers.Count ? markers[m + 1].Index : printed.Length;
                    var start = markers[m].Index + markers[m].Length;
                    outputs[int.Parse(markers[m].Groups["step"].Value, System.Globalization.CultureInfo.InvariantCulture)] = printed[start..end].Trim('\n');
                }
                var reached = outputs.Count == 0 ? 0 : outputs.Keys.Max();
                for (var s = 0; s < steps.Count; s++)
                {
                    var step = steps[s];
                    var stepOutput = outputs.GetValueOrDefault(s, "");
                    if (code != 0 && s == reached)
                    {
                        failures.Add($"{block.Page}:{step.Line}: {(code == -2 ? $"did not finish within {BlockTimeout}" : $"exited with code {code}")}\n" +
                                     $"  commands:\n{Indent(step.Commands)}\n  printed:\n{Indent(stepOutput)}" +
                                     (code == -2 || code == -1 ? $"\n  bash:\n{Indent(printed)}" : ""));
                        break;
                    }
                    if (step.Shown is null) continue;
                    var difference = ShownOutput.Difference(step.Shown, stepOutput);
                    if (difference is not null)
                        failures.Add($"{block.Page}:{step.Line}: the output differs from the page's: {difference}\n" +
                                     $"  commands:\n{Indent(step.Commands)}\n  shown:\n{Indent(step.Shown)}\n  printed:\n{Indent(stepOutput)}");
                }
                output.WriteLine($"{block.Page}:{block.Line}: {steps.Count} steps, exit code {code}, {blockClock.Elapsed.TotalSeconds:0.0} s");
            }
            output.WriteLine($"{runnable.Count} runnable blocks in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(failures.Count == 0, $"{failures.Count} step(s) of the docs' runnable blocks failed:\n\n{string.Join("\n\n", failures)}");
        }
        finally
        {
            if (node.Node is not null) await node.DisposeAsync();
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static string Indent(IEnumerable<string> lines) => string.Join('\n', lines.Select(l => "    " + l));

    private static string Indent(string text) => Indent(text.Split('\n'));

    [GeneratedRegex(@"embedded Kafka \(librdkafka mock cluster\) at (?<address>[0-9.]+:[0-9]+)")]
    private static partial Regex EmbeddedKafka();

    [GeneratedRegex(@"^::step (?<step>\d+)::$", RegexOptions.Multiline)]
    private static partial Regex StepMarker();
}
