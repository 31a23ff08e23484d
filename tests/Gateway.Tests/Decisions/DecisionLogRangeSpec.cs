// The decision log's range queries on SQLite and on PostgreSQL: paging through the decisions recorded in
// [from, to) a page at a time gives every one of them once, in (recorded time, id) order, whatever order they
// were recorded in and however many share a millisecond; the count agrees; the bounds hold between milliseconds;
// and a page goes on where the previous one ended even when its last decision was deleted in between.
using ContextLake.Gateway.Decisions;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Decisions;

public abstract class DecisionLogRangeSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds());

    private static Task Record(DecisionLog log, string id, DateTimeOffset at) =>
        log.RecordAsync(new DecisionRecord(id, at, 1, id, LabelledChecker.Request(id, "unchanged", "a1"), LabelledChecker.Answer(id, "a1")), CancellationToken.None);

    private static async Task<List<string>> PageThrough(DecisionLog log, DateTimeOffset from, DateTimeOffset to, int limit, List<int> pages)
    {
        var ids = new List<string>();
        DecisionRecord? after = null;
        while (true)
        {
            var page = await log.ListAsync(from, to, after, limit, CancellationToken.None);
            if (page.Count == 0) return ids;
            Assert.True(page.Count <= limit, $"a page of {page.Count} past its limit {limit}");
            pages.Add(page.Count);
            ids.AddRange(page.Select(d => d.Id));
            after = page[^1];
        }
    }

    [Fact]
    public async Task paging_through_a_range_gives_every_decision_in_it_once_in_recorded_time_and_id_order()
    {
        await using var log = new DecisionLog(new JournalDatabase(Journal.Options), new DecisionOptions());
        await log.EnsureAsync(CancellationToken.None);
        // 23 decisions in the range, three to a millisecond (ids break the tie), recorded in a shuffled order; others just outside it.
        var inside = Enumerable.Range(0, 23).Select(i => (Id: $"d-{i:D2}", At: T0.AddMilliseconds(i / 3))).ToList();
        foreach (var (id, at) in inside.OrderBy(_ => Random.Shared.Next())) await Record(log, id, at);
        await Record(log, "before", T0.AddMilliseconds(-1));
        var to = T0.AddMilliseconds(8);
        await Record(log, "at-the-end", to);

        var pages = new List<int>();
        Assert.Equal(inside.Select(d => d.Id), await PageThrough(log, T0, to, 4, pages));
        Assert.Equal(new[] { 4, 4, 4, 4, 4, 3 }, pages);
        Assert.Equal(23, await log.CountAsync(T0, to, CancellationToken.None));

        // Between milliseconds: from just after T0 leaves T0's decisions out, to just after the end takes the decision at it in.
        var (later, past) = (T0.AddTicks(1), to.AddTicks(1));
        Assert.Equal(inside.Skip(3).Select(d => d.Id).Append("at-the-end"), await PageThrough(log, later, past, 7, []));
        Assert.Equal(21, await log.CountAsync(later, past, CancellationToken.None));
        Assert.Empty(await log.ListAsync(T0.AddHours(-2), T0.AddMilliseconds(-1), null, 10, CancellationToken.None));
        Assert.Equal(0, await log.CountAsync(T0.AddHours(-2), T0.AddMilliseconds(-1), CancellationToken.None));
    }

    [Fact]
    public async Task a_page_goes_on_after_the_last_decision_of_the_one_before_even_when_that_decision_was_deleted()
    {
        var database = new JournalDatabase(Journal.Options);
        await using var log = new DecisionLog(database, new DecisionOptions());
        await log.EnsureAsync(CancellationToken.None);
        for (var i = 0; i < 6; i++) await Record(log, $"e-{i}", T0.AddMilliseconds(i));

        var first = await log.ListAsync(T0, T0.AddSeconds(1), null, 3, CancellationToken.None);
        Assert.Equal(new[] { "e-0", "e-1", "e-2" }, first.Select(d => d.Id));
        // As the retention sweeper would: the decisions up to the page's last are gone before the next page is asked for.
        await using (var conn = await database.OpenBesideAsync("decisions", CancellationToken.None))
        {
            await using var delete = conn.CreateCommand();
            delete.CommandText = "DELETE FROM contextlake_decisions WHERE id IN ('e-0', 'e-1', 'e-2')";
            Assert.Equal(3, await delete.ExecuteNonQueryAsync());
        }
        var next = await log.ListAsync(T0, T0.AddSeconds(1), first[^1], 3, CancellationToken.None);
        Assert.Equal(new[] { "e-3", "e-4", "e-5" }, next.Select(d => d.Id));
    }
}

public sealed class SqliteDecisionLogRangeSpec() : DecisionLogRangeSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlDecisionLogRangeSpec() : DecisionLogRangeSpec(JournalProvider.PostgreSql);
