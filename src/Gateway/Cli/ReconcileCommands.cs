// contextlake reconcile --from T --to T | reconcile DECISION: reconcile recorded decisions against the journal.
// A range starts a job on the node and follows it (a progress bar on a terminal, a line now and then when the
// output goes to a file or a pipe), then prints the counts, the delta rate and the first differing decisions; an
// interrupted tool cancels its job. One decision is checked at once. Defects found end with their own exit code.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace ContextLake.Cli;

public static class ReconcileCommands
{
    /// <summary>How many differing decisions the summary lists; the job document holds more.</summary>
    private const int Listed = 20;

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LineEvery = TimeSpan.FromSeconds(2);

    public static Command Build()
    {
        var decision = new Argument<string?>("decision") { Description = "one decision's id: check it now", Arity = ArgumentArity.ZeroOrOne };
        var from = new Option<string?>("--from") { Description = "reconcile the decisions recorded at or after this time (ISO-8601, e.g. 2025-01-31T09:00:00Z)" };
        var to = new Option<string?>("--to") { Description = "... and before this time (ISO-8601)" };
        foreach (var option in new[] { from, to })
        {
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<string?>() is { } t && !TryParseTime(t, out _))
                    r.AddError($"{option.Name}: '{t}' is not an ISO-8601 time like 2025-01-31T09:00:00Z");
            });
        }
        var command = ToolCommands.Leaf("reconcile",
            "reconcile recorded decisions against the journal: --from T --to T runs a job over those recorded in [from, to), DECISION checks one. " +
            $"Exit code {ExitCodes.Defects} when a defect was found",
            (inv, cancel) => inv.Parse.GetValue(decision) is { } id
                ? One(inv, id, cancel)
                : Job(inv, Time(inv.Parse.GetValue(from)!), Time(inv.Parse.GetValue(to)!), cancel),
            decision, from, to);
        command.Validators.Add(r =>
        {
            var (id, f, t) = (r.GetValue(decision), r.GetValue(from), r.GetValue(to));
            if (id is not null && (f is not null || t is not null)) r.AddError("reconcile: give a decision id or --from and --to, not both");
            else if (id is null && (f is null || t is null)) r.AddError("reconcile: give --from and --to (a range of recording times), or a decision id");
        });
        return command;
    }

    private static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);

    private static DateTimeOffset Time(string text) => TryParseTime(text, out var t) ? t : throw new CliFailure(ExitCodes.Usage, $"'{text}' is not a time");

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Utc(JsonElement time) => time.GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static int ExitFor(long defects) => defects > 0 ? ExitCodes.Defects : ExitCodes.Ok;

    private static async Task<int> One(Invocation inv, string id, CancellationToken cancel)
    {
        var answer = await inv.Api.SendAsync(HttpMethod.Post, $"v1/decisions/{Uri.EscapeDataString(id)}/reconcile", null, cancel);
        var check = answer.Json;
        var defect = check.GetProperty("outcome").GetString() == "defect";
        if (inv.Json)
        {
            await inv.Out.WriteLineAsync(answer.Text);
            return ExitFor(defect ? 1 : 0);
        }
        await inv.Out.WriteLineAsync($"decision {check.GetProperty("id").GetString()} (read at {Utc(check.GetProperty("readAt"))}, " +
                                     $"epoch {N(check.GetProperty("epoch").GetInt64())}): {Outcome(check.GetProperty("outcome").GetString()!)}");
        if (check.TryGetProperty("problem", out var problem)) await inv.Out.WriteLineAsync($"problem: {problem.GetString()}");
        if (check.GetProperty("reads").GetArrayLength() > 0)
            Table.Write(inv.Out, ["WHERE", "READ", "REPLAY", "EFFECTIVE"], check.GetProperty("reads").EnumerateArray().Select(r => (IReadOnlyList<string>)
            [
                r.GetProperty("where").GetString()!, r.GetProperty("read").GetString()!,
                r.GetProperty("replayMatches").GetBoolean() ? "matches" : "DIFFERS (defect)", Differences(r) is { Length: > 0 } d ? $"differs: {d}" : "same",
            ]).ToList());
        return ExitFor(defect ? 1 : 0);
    }

    private static async Task<int> Job(Invocation inv, DateTimeOffset from, DateTimeOffset to, CancellationToken cancel)
    {
        var job = await inv.Api.SendAsync(HttpMethod.Post, "v1/reconciliations",
            new { from = from.ToString("O", CultureInfo.InvariantCulture), to = to.ToString("O", CultureInfo.InvariantCulture) }, cancel);
        var id = job.Json.GetProperty("id").GetString()!;
        var progress = new Progress(inv);
        try
        {
            while (job.Json.GetProperty("state").GetString() == "running")
            {
                await progress.ShowAsync(job.Json);
                await Task.Delay(PollEvery, cancel);
                job = await inv.Api.GetAsync($"v1/reconciliations/{id}", cancel);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Interrupted (Ctrl-C): the job would go on unseen on the node; stop it.
            await progress.EndAsync();
            await inv.Api.SendAsync(HttpMethod.Delete, $"v1/reconciliations/{id}", null, CancellationToken.None);
            throw new CliFailure(ExitCodes.Failed, $"interrupted: reconciliation {id} cancelled");
        }
        await progress.EndAsync();
        var j = job.Json;
        if (inv.Json) await inv.Out.WriteLineAsync(job.Text);
        else await SummaryAsync(inv, j);
        return j.GetProperty("state").GetString() switch
        {
            "done" => ExitFor(j.GetProperty("defects").GetInt64()),
            "failed" => throw new CliFailure(ExitCodes.Failed, $"reconciliation {id} failed: {j.GetProperty("error").GetString()}"),
            var state => throw new CliFailure(ExitCodes.Failed, $"reconciliation {id} ended {state}"),
        };
    }

    private static async Task SummaryAsync(Invocation inv, JsonElement j)
    {
        var took = j.TryGetProperty("endedAt", out var ended) ? ended.GetDateTimeOffset() - j.GetProperty("startedAt").GetDateTimeOffset() : TimeSpan.Zero;
        await inv.Out.WriteLineAsync($"reconciliation {j.GetProperty("id").GetString()} {j.GetProperty("state").GetString()}: " +
            $"{N(j.GetProperty("checked").GetInt64())} of {N(j.GetProperty("total").GetInt64())} decisions checked in " +
            $"{took.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({Rate(j)}/s), recorded from {Utc(j.GetProperty("from"))} to {Utc(j.GetProperty("to"))}");
        var (changed, notCheckable, checkedCount) = (j.GetProperty("changed").GetInt64(), j.GetProperty("notCheckable").GetInt64(), j.GetProperty("checked").GetInt64());
        var delta = j.TryGetProperty("deltaRate", out var rate)
            ? $"delta rate {(rate.GetDouble() * 100).ToString("0.00", CultureInfo.InvariantCulture)}% ({N(changed)} of {N(checkedCount - notCheckable)} checkable decisions changed)"
            : "no delta rate (nothing checkable)";
        await inv.Out.WriteLineAsync($"{N(j.GetProperty("unchanged").GetInt64())} unchanged, {N(changed)} changed, {N(j.GetProperty("defects").GetInt64())} defects, " +
                                     $"{N(notCheckable)} not checkable; {delta}");
        var differing = j.GetProperty("differing").EnumerateArray().ToList();
        if (differing.Count == 0) return;
        var rows = new List<IReadOnlyList<string>>();
        foreach (var check in differing.Take(Listed))
        {
            var outcome = Outcome(check.GetProperty("outcome").GetString()!);
            var reads = check.GetProperty("reads").EnumerateArray().Where(r => !r.GetProperty("replayMatches").GetBoolean() || Differences(r).Length > 0).ToList();
            if (reads.Count == 0)
                rows.Add([check.GetProperty("id").GetString()!, outcome, "-", check.TryGetProperty("problem", out var p) ? p.GetString()! : "-"]);
            foreach (var r in reads)
                rows.Add([check.GetProperty("id").GetString()!, outcome, $"{r.GetProperty("where").GetString()} {r.GetProperty("read").GetString()}",
                    r.GetProperty("replayMatches").GetBoolean() ? Differences(r) : $"replayed at epoch {N(check.GetProperty("epoch").GetInt64())}: not what was answered"]);
        }
        await inv.Out.WriteLineAsync();
        Table.Write(inv.Out, ["DECISION", "OUTCOME", "READ", "DIFFERS"], rows);
        var more = differing.Count - Math.Min(Listed, differing.Count) + j.GetProperty("differingLeftOut").GetInt64();
        if (more > 0)
            await inv.Out.WriteLineAsync($"… and {N(more)} more differing decisions (contextlake reconcile --json, or GET /v1/reconciliations/{j.GetProperty("id").GetString()}, " +
                                         "has those the node kept)");
    }

    private static string Outcome(string outcome) => outcome == "notCheckable" ? "not checkable" : outcome;

    private static string Differences(JsonElement read) => string.Join(", ", read.GetProperty("differences").EnumerateArray().Select(d => d.GetString()));

    private static string Rate(JsonElement job) => job.GetProperty("decisionsPerSecond").GetDouble().ToString("N1", CultureInfo.InvariantCulture);

    /// <summary>
    /// A job's progress while it runs: on a terminal one bar redrawn in place; otherwise (a file, a pipe) a plain line when it moved, at
    /// most every two seconds; with --json nothing (the job's document is printed at the end).
    /// </summary>
    private sealed class Progress(Invocation inv)
    {
        private const int Width = 30;
        private readonly bool _terminal = ReferenceEquals(inv.Out, Console.Out) && !Console.IsOutputRedirected;
        private long _shown;
        private DateTime _lastLine = DateTime.MinValue;
        private bool _drawn;

        public async Task ShowAsync(JsonElement job)
        {
            if (inv.Json) return;
            var (checkedCount, total, percent) = (job.GetProperty("checked").GetInt64(), job.GetProperty("total").GetInt64(), job.GetProperty("percent").GetDouble());
            var text = $"{percent.ToString("0.0", CultureInfo.InvariantCulture),5}%  {N(checkedCount)} of {N(total)}  {Rate(job)}/s  " +
                       $"changed {N(job.GetProperty("changed").GetInt64())}  defects {N(job.GetProperty("defects").GetInt64())}";
            if (_terminal)
            {
                var filled = (int)Math.Round(percent / 100 * Width);
                await inv.Out.WriteAsync($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {text}\u001b[K");
                _drawn = true;
            }
            else if (checkedCount != _shown && DateTime.UtcNow - _lastLine >= LineEvery)
            {
                await inv.Out.WriteLineAsync($"checked {text}");
                _shown = checkedCount;
                _lastLine = DateTime.UtcNow;
            }
            await inv.Out.FlushAsync(CancellationToken.None);
        }

        /// <summary>Ends the bar's line, so what follows starts on its own.</summary>
        public async Task EndAsync()
        {
            if (_drawn) await inv.Out.WriteLineAsync();
            _drawn = false;
        }
    }
}
