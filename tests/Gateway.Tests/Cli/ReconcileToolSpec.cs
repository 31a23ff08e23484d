// contextlake reconcile as a user runs it (the built tool in its own process) against a gateway serving the
// reconciliation API (ReconciliationNode, with the labelled checker): a range starts a job whose progress the tool
// follows (plain lines into a pipe, a bar redrawn on a terminal) and sums up at the end; defects end with exit code 5;
// one decision is checked at once; --json prints the API's document; bad command lines end with 2 before anything is sent.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ContextLake.Gateway.Decisions;
using ContextLake.Gateway.Tests.Decisions;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Cli;

[Collection(InProcessReconciliations.Name)]
public sealed class ReconcileToolSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    private static readonly DateTimeOffset T0 = ReconciliationSpec.T0;

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static Dictionary<string, string?> At(ReconciliationNode node) => new() { ["CONTEXTLAKE_URL"] = node.BaseAddress.ToString() };

    private static async Task Eventually(Func<bool> done, Func<string> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, what());
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task reconcile_follows_a_job_in_plain_lines_sums_it_up_and_ends_with_5_when_it_found_defects()
    {
        var checker = new LabelledChecker { Gate = new CheckerGate { PassFirst = 1 } };
        await using var node = await ReconciliationNode.StartAsync(Journal, checker, new DecisionOptions { ReconcileBatch = 2 });
        string[] expects = ["unchanged", "changed", "defect", "unchanged", "unchanged"];
        for (var i = 0; i < expects.Length; i++) await node.RecordAsync($"d-{i}", T0.AddMilliseconds(i), expects[i]);

        using var tool = ToolProcess.Start(At(node), "reconcile", "--from", Iso(T0), "--to", Iso(T0.AddMinutes(1)));
        await checker.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually(() => tool.Output.Contains("2 of 5", StringComparison.Ordinal), () => $"no progress line:\n{tool.Output}\n{tool.Error}");
        Assert.Matches(@"(?m)^checked +40\.0%  2 of 5 ", tool.Output);
        checker.Gate.Open();

        Assert.Equal(5, await tool.WaitAsync(TimeSpan.FromSeconds(60)));
        var output = tool.Output;
        Assert.DoesNotContain("\r", output);
        Assert.Matches(@"reconciliation [0-9a-f]{16} done: 5 of 5 decisions checked in [0-9.]+ s", output);
        Assert.Contains("3 unchanged, 1 changed, 1 defects, 0 not checkable; delta rate 20.00% (1 of 5 checkable decisions changed)", output);
        var rows = output.Split('\n').SkipWhile(l => !l.StartsWith("DECISION", StringComparison.Ordinal)).Skip(1)
            .Where(l => l.Length > 0).Select(l => System.Text.RegularExpressions.Regex.Split(l.TrimEnd(), " {2,}")).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(new[] { "d-1", "changed", "reads[0] view credits key a1", "total" }, rows[0]);
        Assert.Equal(new[] { "d-2", "defect", "reads[0] view credits key a1", "replayed at epoch 7: not what was answered" }, rows[1]);
    }

    [Fact]
    public async Task an_interrupted_reconcile_cancels_its_job_on_the_node()
    {
        var checker = new LabelledChecker { Gate = new CheckerGate { PassFirst = 1 } };
        await using var node = await ReconciliationNode.StartAsync(Journal, checker, new DecisionOptions { ReconcileBatch = 2 });
        for (var i = 0; i < 5; i++) await node.RecordAsync($"i-{i}", T0.AddMilliseconds(i), "unchanged");

        using var tool = ToolProcess.Start(At(node), "reconcile", "--from", Iso(T0), "--to", Iso(T0.AddMinutes(1)));
        await Eventually(() => tool.Output.Contains("2 of 5", StringComparison.Ordinal), () => $"no progress line:\n{tool.Output}\n{tool.Error}");
        tool.Interrupt();

        Assert.Equal(1, await tool.WaitAsync(TimeSpan.FromSeconds(30)));
        var id = System.Text.RegularExpressions.Regex.Match(tool.Error, "interrupted: reconciliation ([0-9a-f]{16}) cancelled").Groups[1].Value;
        Assert.True(id.Length > 0, tool.Error);
        var (_, job) = await node.Http.GetJson($"v1/reconciliations/{id}");
        Assert.Equal(("cancelled", 2L), (job.GetProperty("state").GetString(), job.GetProperty("checked").GetInt64()));
    }

    [Fact]
    public async Task reconcile_without_defects_ends_with_0_and_json_prints_the_job_document()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker());
        await node.RecordAsync("u", T0, "unchanged");
        await node.RecordAsync("c", T0.AddMilliseconds(1), "changed");
        await node.RecordAsync("n", T0.AddMilliseconds(2), "not-checkable");

        var (code, output, error) = await ToolProcess.RunAsync(At(node), "reconcile", "--from", Iso(T0), "--to", Iso(T0.AddMinutes(1)));
        Assert.True(code == 0, $"exit {code}:\n{output}\n{error}");
        Assert.Contains("1 unchanged, 1 changed, 0 defects, 1 not checkable; delta rate 50.00% (1 of 2 checkable decisions changed)", output);

        (code, output, error) = await ToolProcess.RunAsync(At(node), "reconcile", "--from", Iso(T0), "--to", Iso(T0.AddMinutes(1)), "--json");
        Assert.True(code == 0, $"exit {code}:\n{output}\n{error}");
        var job = JsonDocument.Parse(output).RootElement;
        Assert.Equal(("done", 3L, 0.5), (job.GetProperty("state").GetString(), job.GetProperty("checked").GetInt64(), job.GetProperty("deltaRate").GetDouble()));
        Assert.Equal("c", Assert.Single(job.GetProperty("differing").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task reconcile_of_one_decision_shows_each_read_and_ends_with_5_for_a_defect_and_1_for_an_unknown_decision()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker());
        await node.RecordAsync("moved", T0, "changed", "a1", "a2");
        await node.RecordAsync("wrong", T0, "defect");

        var (code, output, error) = await ToolProcess.RunAsync(At(node), "reconcile", "moved");
        Assert.True(code == 0, $"exit {code}:\n{output}\n{error}");
        Assert.Contains($"decision moved (read at {T0.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff}Z, epoch 7): changed", output);
        Assert.Matches(@"(?m)^reads\[1\] +view credits key a2 +matches +differs: total$", output);

        (code, output, _) = await ToolProcess.RunAsync(At(node), "reconcile", "wrong");
        Assert.Equal(5, code);
        Assert.Matches(@"(?m)^reads\[0\] +view credits key a1 +DIFFERS \(defect\) +same$", output);

        (code, output, error) = await ToolProcess.RunAsync(At(node), "reconcile", "never-made");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("HTTP 404 Unknown decision: no decision 'never-made' is recorded", error);
    }

    [Fact]
    public async Task a_bad_command_line_ends_with_2_and_starts_nothing()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker());
        foreach (var (args, says) in new (string[] Args, string Says)[]
                 {
                     (["reconcile"], "give --from and --to"),
                     (["reconcile", "--from", Iso(T0)], "give --from and --to"),
                     (["reconcile", "--from", "last tuesday", "--to", Iso(T0)], "--from: 'last tuesday' is not an ISO-8601 time"),
                     (["reconcile", "d-1", "--from", Iso(T0), "--to", Iso(T0.AddMinutes(1))], "not both"),
                 })
        {
            var (code, _, error) = await ToolProcess.RunAsync(At(node), args);
            Assert.True(code == 2, $"{string.Join(' ', args)} exited {code}: {error}");
            Assert.Contains(says, error);
        }
        Assert.Empty((await node.Http.GetJson("v1/reconciliations")).Body.EnumerateArray());
    }

    [Fact]
    public async Task on_a_terminal_reconcile_draws_a_progress_bar_in_place()
    {
        var checker = new LabelledChecker { Gate = new CheckerGate { PassFirst = 1 } };
        await using var node = await ReconciliationNode.StartAsync(Journal, checker, new DecisionOptions { ReconcileBatch = 2 });
        for (var i = 0; i < 4; i++) await node.RecordAsync($"t-{i}", T0.AddMilliseconds(i), "unchanged");

        // script(1) runs the tool on a pseudo-terminal, as a user's shell would, and copies what it draws to its standard output.
        var command = $"dotnet {ToolProcess.ToolDll} reconcile --url {node.BaseAddress} --from {Iso(T0)} --to {Iso(T0.AddMinutes(1))}";
        var info = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-q", "-e", "-c", command, "/dev/null" }) info.ArgumentList.Add(a);
        using var script = Process.Start(info)!;
        var drawn = new System.Text.StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await script.StandardOutput.ReadAsync(buffer)) > 0)
                lock (drawn) drawn.Append(buffer, 0, n);
        });
        string Drawn()
        {
            lock (drawn) return drawn.ToString();
        }

        await checker.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually(() => Drawn().Contains("2 of 4", StringComparison.Ordinal), () => $"no bar at 2 of 4:\n{Drawn()}");
        checker.Gate.Open();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await script.WaitForExitAsync(timeout.Token);
        await reading;

        Assert.Equal(0, script.ExitCode);
        var screen = Drawn();
        Assert.Contains("\r[###############...............]  50.0%  2 of 4", screen);
        Assert.DoesNotMatch(@"(?m)^checked +[0-9]", screen);
        Assert.Contains("done: 4 of 4 decisions checked", screen);
    }
}
