// GET /v1/subscribe over real HTTP against a node process: a snapshot then every change in epoch order,
// exactly once across a disconnect and a resume with Last-Event-ID (also in the middle of an epoch),
// whole-view subscriptions, and bad input named in a 4xx problem. The final state a subscriber holds
// always equals a read at the final epoch.
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Subscriptions;

public sealed class SubscriptionSpecs(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);
    private NodeProcess Node => fixture.Node;

    private async Task<long> WriteCards(params string[] cards)
    {
        var events = cards.Select(c => (object)new { type = "card_tx", id = Guid.NewGuid().ToString("N"), data = new { card_id = c, merchant_id = "m-" + c, amount = 10 } }).ToArray();
        var (status, body, _) = await Node.PostJson("v1/events", NodeClient.Events(events));
        Assert.True(status == 200, $"write answered {status}: {body}");
        return body.GetProperty("last").GetInt64();
    }

    [Fact]
    public async Task a_key_subscription_starts_with_a_snapshot_then_sends_each_change_in_epoch_order()
    {
        await Bank.WaitForViewsAsync(Node, "card_velocity");
        var written = await WriteCards("s1", "s1");
        // Committed before subscribing (GET /v1/epoch does not wait for after=; a read does).
        var (committed, _) = await Node.GetJson($"v1/views/card_velocity/s1?after=http:writes@{written}");
        Assert.Equal(200, committed);

        var (feed, status, problem) = await ServerSentEvents.OpenAsync(Node.Http, "v1/subscribe?view=card_velocity&key=s1&key=s2");
        Assert.True(status == 200, $"subscribe answered {status}: {problem}");
        await using var _ = feed!;
        var snapshot = await feed!.NextAsync(EventTimeout);
        Assert.Equal("snapshot", snapshot!.Event);
        var keys = snapshot.Data.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("key").GetString()!, k => k.GetProperty("values"));
        Assert.Equal(2, keys["s1"].GetProperty("n").GetInt64());
        Assert.Equal(0, keys["s2"].GetProperty("n").GetInt64());

        foreach (var batch in new[] { new[] { "s2" }, ["s1", "s2"], ["other"], ["s1"], ["s2", "s2"] })
            await WriteCards(batch);
        var state = await Follow(feed, snapshot, keys.ToDictionary(kv => kv.Key, kv => kv.Value), expected: new() { ["s1"] = 4, ["s2"] = 4 }, changes: int.MaxValue);
        await AssertEqualsReadAtFinalEpoch("card_velocity", state);
    }

    [Fact]
    public async Task a_subscriber_that_disconnects_and_resumes_sees_every_change_exactly_once()
    {
        await Bank.WaitForViewsAsync(Node, "card_velocity");
        const string path = "v1/subscribe?view=card_velocity&key=r1&key=r2";
        var (feed, status, problem) = await ServerSentEvents.OpenAsync(Node.Http, path);
        Assert.True(status == 200, $"subscribe answered {status}: {problem}");
        var snapshot = await feed!.NextAsync(EventTimeout);
        var values = snapshot!.Data.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("key").GetString()!, k => k.GetProperty("values"));

        // One batch touching both keys: one epoch with two changes; the client leaves after the first.
        await WriteCards("r1", "r2");
        var state = await Follow(feed, snapshot, values, expected: null, changes: 1);
        Assert.EndsWith(":0", state.LastId);
        await feed.DisposeAsync();

        foreach (var batch in new[] { new[] { "r2" }, ["r1", "r1"], ["r1", "r2"], ["r2"] })
            await WriteCards(batch);

        (feed, status, problem) = await ServerSentEvents.OpenAsync(Node.Http, path, state.LastId);
        Assert.True(status == 200, $"resume answered {status}: {problem}");
        await using var __ = feed!;
        state = await Follow(feed!, state.Last, state.Values, expected: new() { ["r1"] = 4, ["r2"] = 4 }, changes: int.MaxValue, state);
        await AssertEqualsReadAtFinalEpoch("card_velocity", state);
    }

    [Fact]
    public async Task a_whole_view_subscription_sends_the_changes_of_every_key()
    {
        await Bank.WaitForViewsAsync(Node, "credits");
        var (feed, status, problem) = await ServerSentEvents.OpenAsync(Node.Http, "v1/subscribe?view=credits");
        Assert.True(status == 200, $"subscribe answered {status}: {problem}");
        await using var _ = feed!;
        var snapshot = await feed!.NextAsync(EventTimeout);
        Assert.Equal("snapshot", snapshot!.Event);
        Assert.Empty(snapshot.Data.GetProperty("keys").EnumerateArray());

        var targets = new[] { "w1", "w2", "w3", "w1" };
        foreach (var to in targets)
        {
            var (s, body, _) = await Node.PostJson("v1/events", NodeClient.Events(
                new { type = "transfer", id = Guid.NewGuid().ToString("N"), data = new { from_account = "wsrc", to_account = to, amount = 3 } }));
            Assert.True(s == 200, $"write answered {s}: {body}");
        }

        // Keys the snapshot does not list start from their empty aggregate (n 0); wsrc belongs to debits, not credits.
        var state = await Follow(feed, snapshot, new Dictionary<string, JsonElement>(),
            expected: new() { ["w1"] = 2, ["w2"] = 1, ["w3"] = 1 }, changes: int.MaxValue, onlyKeys: false);
        Assert.DoesNotContain("wsrc", state.Values.Keys);
        await AssertEqualsReadAtFinalEpoch("credits", state);
    }

    [Fact]
    public async Task bad_subscriptions_are_refused_with_a_problem_naming_the_fault()
    {
        await Bank.WaitForViewsAsync(Node, "credits");
        async Task Refused(string path, int status, string detail, string? lastEventId = null)
        {
            var (feed, got, problem) = await ServerSentEvents.OpenAsync(Node.Http, path, lastEventId);
            if (feed is not null) await feed.DisposeAsync();
            Assert.True(got == status, $"{path} answered {got}, not {status}: {problem}");
            Assert.Contains(detail, problem.GetProperty("detail").GetString());
        }

        await Refused("v1/subscribe", 400, "parameter view is required");
        await Refused("v1/subscribe?view=nope&key=a", 404, "there is no view named 'nope'");
        await Refused("v1/subscribe?view=credits&key=", 400, "key[0] is empty");
        await Refused("v1/subscribe?view=credits&" + string.Join("&", Enumerable.Range(0, 101).Select(i => $"key=k{i}")), 400, "ContextLake:Subscriptions:MaxKeys");
        await Refused("v1/subscribe?view=credits&key=a", 400, "header Last-Event-ID 'yesterday'", "yesterday");
        await Refused("v1/subscribe?view=credits&key=a", 400, "is newer than the latest committed epoch", "99999999");
    }

    private sealed record FeedState(ServerSentEvent Last, string LastId, long Epoch, Dictionary<string, JsonElement> Values, int Changes);

    /// <summary>
    /// Reads change events until every key in <paramref name="expected"/> reaches its count n (or <paramref name="changes"/>
    /// events were read), checking the promises on the way: epochs in order, ids increasing, and each change's
    /// before equal to the after the subscriber last saw for that key, so no change is missed or repeated.
    /// </summary>
    private static async Task<FeedState> Follow(ServerSentEvents feed, ServerSentEvent last, Dictionary<string, JsonElement> values,
        Dictionary<string, long>? expected, int changes, FeedState? previous = null, bool onlyKeys = true)
    {
        var epoch = previous?.Epoch ?? last.Data.GetProperty("epoch").GetProperty("n").GetInt64();
        var lastId = previous?.LastId ?? last.Id!;
        var count = 0;
        values = new Dictionary<string, JsonElement>(values);
        bool Done() => count >= changes || (expected is not null && expected.All(kv => values.TryGetValue(kv.Key, out var v) && v.GetProperty("n").GetInt64() == kv.Value));
        while (!Done())
        {
            var e = await feed.NextAsync(EventTimeout);
            Assert.True(e is not null, "the stream ended early");
            Assert.True(e!.Event == "change", $"unexpected {e.Event} event: {e.Data}");
            var n = e.Data.GetProperty("epoch").GetProperty("n").GetInt64();
            Assert.True(n >= epoch, $"epoch {n} came after epoch {epoch}");
            Assert.True(Compare(e.Id!, lastId) > 0, $"id {e.Id} came after {lastId}");
            var key = e.Data.GetProperty("key").GetString()!;
            if (values.TryGetValue(key, out var known))
                Assert.Equal(known.GetRawText(), e.Data.GetProperty("before").GetRawText());
            else if (onlyKeys)
                Assert.Fail($"a change of key {key}, which was not subscribed");
            else
                Assert.Equal(0, e.Data.GetProperty("before").GetProperty("n").GetInt64());
            values[key] = e.Data.GetProperty("after").Clone();
            epoch = n;
            lastId = e.Id!;
            last = e;
            count++;
        }
        return new FeedState(last, lastId, epoch, values, (previous?.Changes ?? 0) + count);
    }

    private static int Compare(string a, string b)
    {
        static (long, long) Parse(string id) => id.Contains(':') ? (long.Parse(id.Split(':')[0]), long.Parse(id.Split(':')[1])) : (long.Parse(id), long.MaxValue);
        return Parse(a).CompareTo(Parse(b));
    }

    private async Task AssertEqualsReadAtFinalEpoch(string view, FeedState state)
    {
        foreach (var (key, values) in state.Values)
        {
            var (status, read) = await Node.GetJson($"v1/views/{view}/{key}?epoch={state.Epoch}");
            Assert.True(status == 200, $"read at epoch {state.Epoch} answered {status}: {read}");
            Assert.Equal(read.GetProperty("values").GetRawText(), values.GetRawText());
        }
    }
}
