// Views at run time: a definition is parsed and checked (400 naming line and column), a name is
// unique (409), a view created after events exist is backfilled from the journal before it is
// readable, windowed reads aggregate a recent span, late events are counted, and a dropped view is gone.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Epochs;

public sealed class ViewLifecycleSpecs : SqliteNodeLifetime
{
    private Task<(int Status, JsonElement Body, string? ContentType)> Create(string sql) =>
        Node.PostJson("v1/views", JsonSerializer.Serialize(new { sql }));

    public static TheoryData<string, string> BadDefinitions() => new()
    {
        { "CREATE VIEW v AS SELECT to_account, SUM(amout) FROM transfer GROUP BY to_account", "line 1, column 41: unknown column 'amout'" },
        { "CREATE VIEW v AS SELECT to_account, SUM(from_account) FROM transfer GROUP BY to_account", "SUM needs a number column" },
        { "CREATE VIEW v AS SELECT card_id, COUNT(*) FROM card_tx GROUP BY card_id WINDOW HOPPING(1m, 5m)", "slide 5m is larger than its size 1m" },
        { "CREATE VIEW v AS SELECT card_id, COUNT(*) FROM card_tx GROUP BY card_id WINDOW TUMBLE(1m)", "expected TUMBLING, HOPPING or SESSION" },
        { "CREATE VIEW v AS\nSELECT card_id, COUNT(*)\nFORM card_tx GROUP BY card_id", "line 3, column 1: expected FROM" },
        { "CREATE VIEW v AS SELECT x, COUNT(*) FROM nosuchtype GROUP BY x", "unknown entity type 'nosuchtype'" },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public async Task a_bad_definition_is_refused_naming_line_and_column(string sql, string detail)
    {
        var (status, problem, _) = await Create(sql);
        Assert.Equal(400, status);
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_view_created_after_its_events_is_backfilled_then_kept_current_and_can_be_dropped()
    {
        for (var i = 0; i < 30; i++)
            await Node.PostJson("v1/events", NodeClient.Events(
                new { type = "card_tx", id = $"tx{i}", data = new { card_id = $"c{i % 3}", merchant_id = "m1", amount = i } }));

        var (status, created, _) = await Create("CREATE VIEW per_card AS SELECT card_id, COUNT(*) AS n, SUM(amount) AS total FROM card_tx GROUP BY card_id");
        Assert.Equal(201, status);
        Assert.Equal("per_card", created.GetProperty("name").GetString());
        Assert.Equal(409, (await Create("CREATE VIEW per_card AS SELECT card_id, COUNT(*) AS n FROM card_tx GROUP BY card_id")).Status);

        await Bank.WaitForViewsAsync(Node, "per_card");
        var (_, described) = await Node.GetJson("v1/views/per_card");
        Assert.Equal("ready", described.GetProperty("status").GetString());
        // Every entity partition delivered its part of the backfill: the 30 card transactions written before the view.
        var backfill = described.GetProperty("backfill");
        Assert.Equal(StateOptions.DefaultPartitions(JournalProvider.Sqlite), backfill.GetProperty("total").GetInt64());
        Assert.Equal(backfill.GetProperty("total").GetInt64(), backfill.GetProperty("done").GetInt64());
        Assert.Equal(30, backfill.GetProperty("events").GetInt64());

        var (_, write, _) = await Node.PostJson("v1/events", NodeClient.Events(
            new { type = "card_tx", id = "late-comer", data = new { card_id = "c0", merchant_id = "m1", amount = 1000 } }));
        var (_, c0) = await Node.GetJson($"v1/views/per_card/c0?after=http:writes@{write.GetProperty("last").GetInt64()}");
        Assert.Equal(11, c0.GetProperty("values").GetProperty("n").GetInt64());
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i % 3 == 0).Sum() + 1000, c0.GetProperty("values").GetProperty("total").GetDecimal());

        var dropped = await Node.Http.DeleteAsync("v1/views/per_card");
        Assert.Equal(200, (int)dropped.StatusCode);
        Assert.Equal(404, (await Node.GetJson("v1/views/per_card/c0")).Status);
    }

    [Fact]
    public async Task a_windowed_read_aggregates_the_recent_span_and_late_events_are_counted_not_aggregated()
    {
        await Bank.WaitForViewsAsync(Node, "card_velocity");
        var now = DateTimeOffset.UtcNow;
        object Tx(string id, TimeSpan ago, int amount) =>
            new { type = "card_tx", id, time = (now - ago).UtcDateTime.ToString("O"), data = new { card_id = "cw", merchant_id = id, amount } };
        await Node.PostJson("v1/events", NodeClient.Events(Tx("w1", TimeSpan.FromMinutes(8), 1), Tx("w2", TimeSpan.FromMinutes(3), 10)));
        var (_, late, _) = await Node.PostJson("v1/events", NodeClient.Events(Tx("w3", TimeSpan.FromHours(3), 100), Tx("w4", TimeSpan.FromSeconds(5), 1000)));
        var after = $"after=http:writes@{late.GetProperty("last").GetInt64()}";

        var (_, tenMinutes) = await Node.GetJson($"v1/views/card_velocity/cw?{after}");
        Assert.Equal(3, tenMinutes.GetProperty("values").GetProperty("n").GetInt64());
        Assert.Equal(1011m, tenMinutes.GetProperty("values").GetProperty("total").GetDecimal());
        Assert.Equal(1, tenMinutes.GetProperty("late").GetInt64());

        var (_, fiveMinutes) = await Node.GetJson($"v1/views/card_velocity/cw?{after}&window=5m");
        Assert.Equal(1010m, fiveMinutes.GetProperty("values").GetProperty("total").GetDecimal());
        var window = fiveMinutes.GetProperty("window");
        Assert.Equal(TimeSpan.FromMinutes(5), window.GetProperty("end").GetDateTimeOffset() - window.GetProperty("start").GetDateTimeOffset());
    }
}
