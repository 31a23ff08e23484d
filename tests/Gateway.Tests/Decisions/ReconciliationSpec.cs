// Reconciliation jobs over real HTTP, on SQLite and on PostgreSQL: a job reads the decisions of its range in
// batches and checks each once, in order; its document shows progress while it runs and, at the end, the counts
// by outcome, the delta rate and the first differing decisions; defects are logged as warnings naming decision and
// read; the metrics count every check; a running job can be cancelled; bad ranges are 400s naming the field; an
// empty range is done at once; unknown jobs and decisions are 404s; only the last finished jobs are kept.
// The checker is LabelledChecker (the outcome each decision's labels ask for): the real one is written elsewhere.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContextLake.Gateway.Decisions;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Microsoft.Extensions.Logging;
using Xunit;

namespace ContextLake.Gateway.Tests.Decisions;

/// <summary>The specs that run reconciliations in this process: one at a time, so each can read its own changes of the process's metrics.</summary>
[CollectionDefinition(Name)]
public sealed class InProcessReconciliations
{
    public const string Name = "in-process reconciliations";
}

[Collection(InProcessReconciliations.Name)]
public abstract class ReconciliationSpec(JournalProvider provider) : JournalLifetime(provider)
{
    /// <summary>A millisecond an hour ago: well inside the retention, and what the log stores exactly.</summary>
    internal static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds());

    internal static string Range(DateTimeOffset from, DateTimeOffset to) =>
        JsonSerializer.Serialize(new { from = from.ToString("O", CultureInfo.InvariantCulture), to = to.ToString("O", CultureInfo.InvariantCulture) });

    /// <summary>Starts a job over [from, to): its id, after checking the 202 and its Location.</summary>
    internal static async Task<string> StartJob(ReconciliationNode node, DateTimeOffset from, DateTimeOffset to)
    {
        var (status, job, _) = await node.Http.PostJson("v1/reconciliations", Range(from, to));
        Assert.True(status == 202, $"{status} {job}");
        var id = job.GetProperty("id").GetString()!;
        var (again, byLocation) = await node.Http.GetJson($"v1/reconciliations/{id}");
        Assert.Equal(200, again);
        Assert.Equal(from, byLocation.GetProperty("from").GetDateTimeOffset());
        return id;
    }

    /// <summary>The job's document once it is no longer running (at most 30 s).</summary>
    internal static async Task<JsonElement> Ended(ReconciliationNode node, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (status, job) = await node.Http.GetJson($"v1/reconciliations/{id}");
            Assert.True(status == 200, $"{status} {job}");
            if (job.GetProperty("state").GetString() != "running") return job;
            Assert.True(DateTime.UtcNow < deadline, $"the job still runs after 30 s: {job}");
            await Task.Delay(50);
        }
    }

    internal static async Task<Dictionary<string, double>> Metrics(ReconciliationNode node)
    {
        var text = await node.Http.GetStringAsync("metrics");
        return Regex.Matches(text, @"^(contextlake_reconciliation_\S+) (\S+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    private static double Grew(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    [Fact]
    public async Task a_job_checks_each_decision_of_its_range_once_in_batches_and_counts_outcomes_delta_rate_and_defects()
    {
        var checker = new LabelledChecker();
        await using var node = await ReconciliationNode.StartAsync(Journal, checker,
            new DecisionOptions { ReconcileBatch = 3, ReconcileDifferingKept = 3 });
        string[] expects = ["unchanged", "changed", "defect", "not-checkable", "unchanged", "changed", "unchanged", "unchanged", "changed", "unchanged"];
        // Two decisions to a millisecond, recorded out of order; one just before the range and one at its end, both left out.
        var inside = expects.Select((e, i) => (Id: $"d-{i:D2}", At: T0.AddMilliseconds(i / 2), Expect: e)).ToList();
        foreach (var d in inside.OrderBy(_ => Random.Shared.Next())) await node.RecordAsync(d.Id, d.At, d.Expect);
        var to = T0.AddSeconds(1);
        await node.RecordAsync("before", T0.AddMilliseconds(-1), "defect");
        await node.RecordAsync("at-the-end", to, "defect");
        var metricsBefore = await Metrics(node);

        var id = await StartJob(node, T0, to);
        var job = await Ended(node, id);

        Assert.Equal("done", job.GetProperty("state").GetString());
        Assert.Equal(10, job.GetProperty("total").GetInt64());
        Assert.Equal(10, job.GetProperty("checked").GetInt64());
        Assert.Equal(100, job.GetProperty("percent").GetDouble());
        Assert.Equal(
            new long[] { 5, 3, 1, 1 },
            new[] { "unchanged", "changed", "defects", "notCheckable" }.Select(c => job.GetProperty(c).GetInt64()).ToArray());
        Assert.Equal(3.0 / 9, job.GetProperty("deltaRate").GetDouble(), 9);
        Assert.True(job.GetProperty("decisionsPerSecond").GetDouble() > 0, job.ToString());
        Assert.True(job.GetProperty("endedAt").GetDateTimeOffset() >= job.GetProperty("startedAt").GetDateTimeOffset());

        // Batches of 3 in (recorded time, id) order, each decision once.
        Assert.Equal(inside.Select(d => d.Id), checker.Batches.SelectMany(b => b));
        Assert.Equal(new[] { 3, 3, 3, 1 }, checker.Batches.Select(b => b.Count));

        // The first three differing decisions, with their checks; the fourth counted as left out.
        var differing = job.GetProperty("differing").EnumerateArray().ToList();
        Assert.Equal(new[] { "d-01", "d-02", "d-05" }, differing.Select(d => d.GetProperty("id").GetString()));
        Assert.Equal(new[] { "changed", "defect", "changed" }, differing.Select(d => d.GetProperty("outcome").GetString()));
        Assert.Equal("total", differing[0].GetProperty("reads")[0].GetProperty("differences")[0].GetString());
        Assert.False(differing[1].GetProperty("reads")[0].GetProperty("replayMatches").GetBoolean());
        Assert.Equal(1, job.GetProperty("differingLeftOut").GetInt64());

        var defect = Assert.Single(node.Logs.Lines, l => l.Level == LogLevel.Warning);
        Assert.Contains("d-02", defect.Message);
        Assert.Contains("reads[0] (view credits key a1)", defect.Message);

        var metrics = await Metrics(node);
        Assert.Equal(5, Grew(metricsBefore, metrics, "contextlake_reconciliation_decisions_total{outcome=\"unchanged\"}"));
        Assert.Equal(3, Grew(metricsBefore, metrics, "contextlake_reconciliation_decisions_total{outcome=\"changed\"}"));
        Assert.Equal(1, Grew(metricsBefore, metrics, "contextlake_reconciliation_decisions_total{outcome=\"defect\"}"));
        Assert.Equal(1, Grew(metricsBefore, metrics, "contextlake_reconciliation_decisions_total{outcome=\"not_checkable\"}"));
        Assert.Equal(4, Grew(metricsBefore, metrics, "contextlake_reconciliation_seconds_count"));
        Assert.Equal(3.0 / 9, metrics["contextlake_reconciliation_delta_rate"], 9);

        var (listed, jobs) = await node.Http.GetJson("v1/reconciliations");
        Assert.Equal(200, listed);
        Assert.Equal(id, Assert.Single(jobs.EnumerateArray()).GetProperty("id").GetString());
        var (again, conflict) = await node.Http.DeleteJson($"v1/reconciliations/{id}");
        Assert.Equal(409, again);
        Assert.Contains("has ended (done)", conflict.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_running_job_shows_its_progress_and_goes_on_to_the_end()
    {
        var checker = new LabelledChecker { Gate = new CheckerGate { PassFirst = 1 } };
        await using var node = await ReconciliationNode.StartAsync(Journal, checker, new DecisionOptions { ReconcileBatch = 2 });
        for (var i = 0; i < 5; i++) await node.RecordAsync($"p-{i}", T0.AddMilliseconds(i), i == 4 ? "changed" : "unchanged");

        var id = await StartJob(node, T0, T0.AddMinutes(1));
        await checker.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var (_, running) = await node.Http.GetJson($"v1/reconciliations/{id}");
        Assert.Equal("running", running.GetProperty("state").GetString());
        Assert.Equal((5L, 2L, 40.0), (running.GetProperty("total").GetInt64(), running.GetProperty("checked").GetInt64(), running.GetProperty("percent").GetDouble()));
        Assert.Equal(0, running.GetProperty("changed").GetInt64());
        Assert.False(running.TryGetProperty("endedAt", out _), running.ToString());

        checker.Gate.Open();
        var job = await Ended(node, id);
        Assert.Equal("done", job.GetProperty("state").GetString());
        Assert.Equal((5L, 1L, 0.2), (job.GetProperty("checked").GetInt64(), job.GetProperty("changed").GetInt64(), job.GetProperty("deltaRate").GetDouble()));
    }

    [Fact]
    public async Task delete_cancels_a_running_job_which_checks_no_further_batch()
    {
        var checker = new LabelledChecker { Gate = new CheckerGate { PassFirst = 1 } };
        await using var node = await ReconciliationNode.StartAsync(Journal, checker, new DecisionOptions { ReconcileBatch = 2 });
        for (var i = 0; i < 5; i++) await node.RecordAsync($"c-{i}", T0.AddMilliseconds(i), "unchanged");

        var id = await StartJob(node, T0, T0.AddMinutes(1));
        await checker.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var (status, cancelled) = await node.Http.DeleteJson($"v1/reconciliations/{id}");
        Assert.True(status == 200, $"{status} {cancelled}");
        Assert.Equal("cancelled", cancelled.GetProperty("state").GetString());
        Assert.Equal(2, cancelled.GetProperty("checked").GetInt64());
        Assert.Equal("cancelled", (await node.Http.GetJson($"v1/reconciliations/{id}")).Body.GetProperty("state").GetString());
        Assert.Equal(200, (await node.Http.DeleteJson($"v1/reconciliations/{id}")).Status);

        await Task.Delay(300);
        Assert.Equal(2, checker.Batches.Count);
    }

    [Fact]
    public async Task bad_ranges_are_refused_naming_the_field_and_start_nothing()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker(),
            new DecisionOptions { Retention = TimeSpan.FromDays(1) });
        var t = T0.ToString("O", CultureInfo.InvariantCulture);
        foreach (var (body, says) in new (string Body, string Says)[]
                 {
                     ("{}", "from is required"),
                     (JsonSerializer.Serialize(new { from = t }), "to is required"),
                     (JsonSerializer.Serialize(new { from = "yesterday", to = t }), "from must be an ISO-8601 time"),
                     (JsonSerializer.Serialize(new { from = t, to = 5 }), "to must be an ISO-8601 time"),
                     (Range(T0, T0), "from (" + T0.ToString("O", CultureInfo.InvariantCulture) + ") must be before to"),
                     (Range(T0.AddMinutes(1), T0), "must be before to"),
                     (Range(T0.AddDays(-2), T0), "ContextLake:Decisions:Retention"),
                     (JsonSerializer.Serialize(new { from = t, to = t, until = t }), "until is not a field"),
                     ("[1]", "must be a JSON object"),
                     ("{\"from\": ", "not valid JSON"),
                 })
        {
            var (status, problem, type) = await node.Http.PostJson("v1/reconciliations", body);
            Assert.True(status == 400, $"{body} answered {status}: {problem}");
            Assert.Equal("application/problem+json", type);
            Assert.Contains(says, problem.GetProperty("detail").GetString());
        }
        Assert.Empty((await node.Http.GetJson("v1/reconciliations")).Body.EnumerateArray());
    }

    [Fact]
    public async Task an_empty_range_is_a_job_done_at_once_with_nothing_checked()
    {
        var checker = new LabelledChecker();
        await using var node = await ReconciliationNode.StartAsync(Journal, checker);
        await node.RecordAsync("elsewhere", T0, "changed");

        var job = await Ended(node, await StartJob(node, T0.AddMinutes(1), T0.AddMinutes(2)));
        Assert.Equal("done", job.GetProperty("state").GetString());
        Assert.Equal((0L, 0L, 100.0), (job.GetProperty("total").GetInt64(), job.GetProperty("checked").GetInt64(), job.GetProperty("percent").GetDouble()));
        Assert.False(job.TryGetProperty("deltaRate", out _), job.ToString());
        Assert.Empty(job.GetProperty("differing").EnumerateArray());
        Assert.Empty(checker.Batches);
    }

    [Fact]
    public async Task unknown_jobs_and_decisions_are_404_and_one_decision_is_checked_at_once()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker());
        await node.RecordAsync("one", T0, "changed", "a1", "a2");
        var metricsBefore = await Metrics(node);

        foreach (var (status, problem) in new[]
                 {
                     await node.Http.GetJson("v1/reconciliations/no-such-job"),
                     await node.Http.DeleteJson("v1/reconciliations/no-such-job"),
                 })
        {
            Assert.Equal(404, status);
            Assert.Contains("no-such-job", problem.GetProperty("detail").GetString());
        }
        var (unknown, missing, _) = await node.Http.PostJson("v1/decisions/never-made/reconcile", "");
        Assert.Equal(404, unknown);
        Assert.Contains("never-made", missing.GetProperty("detail").GetString());

        var (found, check, _) = await node.Http.PostJson("v1/decisions/one/reconcile", "");
        Assert.True(found == 200, $"{found} {check}");
        Assert.Equal(("one", "changed", 7L), (check.GetProperty("id").GetString(), check.GetProperty("outcome").GetString(), check.GetProperty("epoch").GetInt64()));
        Assert.Equal(T0, check.GetProperty("readAt").GetDateTimeOffset());
        Assert.Equal(new[] { "view credits key a1", "view credits key a2" },
            check.GetProperty("reads").EnumerateArray().Select(r => r.GetProperty("read").GetString()));
        Assert.Equal(15, check.GetProperty("reads")[1].GetProperty("effective").GetProperty("values").GetProperty("total").GetInt32());
        Assert.Equal(1, Grew(metricsBefore, await Metrics(node), "contextlake_reconciliation_decisions_total{outcome=\"changed\"}"));
    }

    [Fact]
    public async Task a_job_whose_checker_fails_ends_failed_with_the_error()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker());
        await node.RecordAsync("ok", T0, "unchanged");
        await node.RecordAsync("broken", T0.AddMilliseconds(1), "fail");

        var job = await Ended(node, await StartJob(node, T0, T0.AddSeconds(1)));
        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("decision 'broken' cannot be checked", job.GetProperty("error").GetString());
        Assert.Contains(node.Logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains(job.GetProperty("id").GetString()!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task only_the_last_finished_jobs_are_kept()
    {
        await using var node = await ReconciliationNode.StartAsync(Journal, new LabelledChecker(), new DecisionOptions { ReconcileJobsKept = 2 });
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await StartJob(node, T0.AddMinutes(i), T0.AddMinutes(i + 1)));
            await Ended(node, ids[^1]);
        }
        var (_, jobs) = await node.Http.GetJson("v1/reconciliations");
        Assert.Equal(new[] { ids[2], ids[1] }, jobs.EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Assert.Equal(404, (await node.Http.GetJson($"v1/reconciliations/{ids[0]}")).Status);
    }
}

public sealed class SqliteReconciliationSpec() : ReconciliationSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlReconciliationSpec() : ReconciliationSpec(JournalProvider.PostgreSql);
