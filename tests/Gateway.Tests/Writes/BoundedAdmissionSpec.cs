// Bounded admission as a client meets it: writers far faster than ingest, against a write log that may hold only
// 1,500 accepted-but-unapplied events, are told to back off at once (429, Retry-After, a problem naming the setting)
// instead of waiting for their timeout; every 200 is committed and every 429 wrote nothing, which the credits view
// (one row per transfer) counts exactly.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Writes;

public sealed class BoundedAdmissionNode : SqliteNodeLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ContextLake__Writes__MaxPendingEvents"] = "1500",
    };
}

public sealed class BoundedAdmissionSpec(BoundedAdmissionNode fixture) : IClassFixture<BoundedAdmissionNode>
{
    private const int Writers = 16, PostsPerWriter = 12, Batch = 500;

    [Fact]
    public async Task past_the_pending_bound_writes_answer_429_at_once_every_200_is_committed_and_every_429_wrote_nothing()
    {
        var node = fixture.Node;
        await Epochs.Bank.WaitForViewsAsync(node, "credits");
        var run = Guid.NewGuid().ToString("N")[..8];
        var accepted = 0;
        var refused = 0;
        long lastOffset = 0;
        string? refusal = null;
        TimeSpan? retryAfter = null;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
        {
            for (var p = 0; p < PostsPerWriter; p++)
            {
                var events = Enumerable.Range(0, Batch).Select(i => new
                {
                    type = "transfer", id = $"{run}-{w}-{p}-{i}",
                    data = new { from_account = $"{run}-src", to_account = $"{run}-a{i % 10}", amount = 1 },
                });
                using var content = new StringContent(JsonSerializer.Serialize(new { events }), Encoding.UTF8);
                content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
                using var response = await node.Http.PostAsync("v1/events", content);
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                switch ((int)response.StatusCode)
                {
                    case 200:
                        Interlocked.Add(ref accepted, body.GetProperty("written").GetInt32());
                        var last = body.GetProperty("last").GetInt64();
                        long seen;
                        while ((seen = Interlocked.Read(ref lastOffset)) < last && Interlocked.CompareExchange(ref lastOffset, last, seen) != seen) { }
                        break;
                    case 429:
                        Interlocked.Increment(ref refused);
                        refusal ??= body.GetProperty("detail").GetString();
                        retryAfter ??= response.Headers.RetryAfter?.Delta;
                        await Task.Delay(50);
                        break;
                    default:
                        Assert.Fail($"a write answered {(int)response.StatusCode}: {body}");
                        break;
                }
            }
        }));

        Assert.True(refused > 0, $"no write was refused in {Writers * PostsPerWriter} posts of {Batch}");
        Assert.True(accepted > 0, "no write was accepted");
        Assert.Contains("ContextLake:Writes:MaxPendingEvents", refusal);
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);

        // At the epoch that commits the last accepted offset, the credits rows of this run are exactly the accepted events.
        long counted = 0;
        for (var a = 0; a < 10; a++)
        {
            var (status, read) = await node.GetJson($"v1/views/credits/{run}-a{a}?after=http:writes@{lastOffset}&timeout=60s");
            Assert.Equal(200, status);
            counted += read.GetProperty("values").GetProperty("n").GetInt64();
        }
        Assert.Equal(accepted, counted);
        Assert.Equal(Writers * PostsPerWriter * Batch, accepted + refused * Batch);
    }
}
