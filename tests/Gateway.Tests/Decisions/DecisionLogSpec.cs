// The decision log, as a client uses it, on SQLite and on PostgreSQL: a read that names a decision is answered
// once it is recorded, GET /v1/decisions/{id} returns what was asked and answered at which epoch, the same
// request again gets the recorded answer (a different one under the same id is a 409), bad ids and labels are
// 400s naming the field, decisions survive kill -9, many at once share transactions, and old ones expire.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Decisions;

public abstract class DecisionLogSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static string Read(string decision, string account, object? labels = null) => JsonSerializer.Serialize(new
    {
        decision,
        labels,
        reads = new object[] { new { view = "credits", key = account }, new { view = "debits", key = account } },
    });

    private static decimal Credits(JsonElement answer) => answer.GetProperty("results")[0].GetProperty("values").GetProperty("total").GetDecimal();

    [Fact]
    public async Task a_named_read_is_recorded_before_it_is_answered_and_survives_a_kill()
    {
        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            await Bank.WaitForViewsAsync(node);
            var last = NodeClient.Position(await Bank.DepositAtAsync(node, "d1", 40));
            var body = JsonSerializer.Serialize(new
            {
                decision = "auth-1", labels = new { merchant = "m7", rule = "velocity" }, after = last,
                reads = new object[] { new { view = "credits", key = "d1" } },
            });
            var (status, answer, _) = await node.PostJson("v1/read", body);
            Assert.True(status == 200, $"{status} {answer}");
            Assert.Equal("auth-1", answer.GetProperty("decision").GetString());
            Assert.Equal(40m, Credits(answer));

            var (found, record) = await node.GetJson("v1/decisions/auth-1");
            Assert.True(found == 200, $"{found} {record}");
            Assert.Equal("auth-1", record.GetProperty("id").GetString());
            Assert.Equal(answer.GetProperty("epoch").GetProperty("n").GetInt64(), record.GetProperty("epoch").GetInt64());
            Assert.Equal("m7", record.GetProperty("request").GetProperty("labels").GetProperty("merchant").GetString());
            Assert.Equal("d1", record.GetProperty("request").GetProperty("reads")[0].GetProperty("key").GetString());
            Assert.Equal(answer.GetRawText(), record.GetProperty("answer").GetRawText());
            await node.KillAsync();
        }

        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            var (found, record) = await node.GetJson("v1/decisions/auth-1");
            Assert.True(found == 200, $"after kill -9: {found} {record}");
            Assert.Equal(40m, Credits(record.GetProperty("answer")));
        }
    }

    [Fact]
    public async Task the_same_request_again_gets_the_recorded_answer_and_another_request_under_its_id_is_a_conflict()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment);
        await Bank.WaitForViewsAsync(node);
        var first = NodeClient.Position(await Bank.DepositAtAsync(node, "d2", 10));
        await node.Entity("transfer", "x", first);
        var (status, answer, _) = await node.PostJson("v1/read", Read("auth-2", "d2"));
        Assert.True(status == 200, $"{status} {answer}");
        Assert.Equal(10m, Credits(answer));

        // The value moves on; the decision's answer does not.
        var later = NodeClient.Position(await Bank.DepositAtAsync(node, "d2", 5));
        await node.Entity("transfer", "x", later);
        var (again, replayed, _) = await node.PostJson("v1/read", Read("auth-2", "d2"));
        Assert.Equal(200, again);
        Assert.Equal(answer.GetRawText(), replayed.GetRawText());
        var (fresh, now, _) = await node.PostJson("v1/read", Read("auth-2b", "d2"));
        Assert.Equal(200, fresh);
        Assert.Equal(15m, Credits(now));

        var (conflict, problem, _) = await node.PostJson("v1/read", Read("auth-2", "d3"));
        Assert.Equal(409, conflict);
        Assert.Contains("auth-2", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task bad_decisions_are_refused_naming_the_field_and_unknown_ones_are_404()
    {
        await using var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__Decisions__MaxIdLength"] = "16",
        });
        await Bank.WaitForViewsAsync(node);
        var reads = new object[] { new { view = "credits", key = "a1" } };
        foreach (var (bad, field) in new (object Body, string Field)[]
                 {
                     (new { decision = "", reads }, "decision"),
                     (new { decision = 17, reads }, "decision"),
                     (new { decision = new string('x', 17), reads }, "MaxIdLength"),
                     (new { decision = "ok", labels = "vip", reads }, "labels"),
                     (new { labels = new { a = 1 }, reads }, "labels"),
                 })
        {
            var (status, problem, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(bad));
            Assert.True(status == 400, $"{JsonSerializer.Serialize(bad)} answered {status}: {problem}");
            Assert.Contains(field, problem.GetProperty("detail").GetString());
        }
        var (missing, notFound) = await node.GetJson("v1/decisions/never-made");
        Assert.Equal(404, missing);
        Assert.Contains("never-made", notFound.GetProperty("detail").GetString());
        // A refused read recorded nothing.
        Assert.Equal(404, (await node.GetJson("v1/decisions/ok")).Status);
    }

    [Fact]
    public async Task decisions_made_at_once_share_transactions_and_expire_after_the_retention()
    {
        await using var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__Decisions__Retention"] = "00:00:03",
        });
        await Bank.WaitForViewsAsync(node);
        const int decisions = 200;
        var statuses = await Task.WhenAll(Enumerable.Range(0, decisions).Select(async i =>
            (await node.PostJson("v1/read", Read($"burst-{i}", $"a{i % 10}"))).Status));
        Assert.All(statuses, s => Assert.Equal(200, s));
        var metrics = await node.Http.GetStringAsync("metrics");
        double Value(string series) => metrics.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Single();
        Assert.Equal(decisions, Value("contextlake_decisions_total{outcome=\"recorded\"}"));
        var commits = Value("contextlake_decision_log_commits_total");
        Assert.True(commits < decisions, $"{decisions} decisions took {commits} transactions: none shared one");
        for (var i = 0; i < decisions; i += 37) Assert.Equal(200, (await node.GetJson($"v1/decisions/burst-{i}")).Status);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await node.GetJson("v1/decisions/burst-0")).Status != 404)
        {
            Assert.True(DateTime.UtcNow < deadline, "a decision was still there 30 s after its 3 s retention");
            await Task.Delay(200);
        }
    }
}

public sealed class SqliteDecisionLogSpec() : DecisionLogSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlDecisionLogSpec() : DecisionLogSpec(JournalProvider.PostgreSql);
