// Ready means ready, as a load balancer or a Kubernetes readiness probe uses it: a node started on a fresh
// journal, 20 times (two at a time), and the first requests sent the
// moment /readyz answers 200 (a read of a configured view, a subscription to it) never meet 404 "Unknown view" or 503
// "View not caught up".
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Operations;

public sealed class ReadinessSpec
{
    private const int Starts = 20, AtOnce = 2;

    [Fact]
    public async Task the_first_read_and_subscription_after_readyz_answers_200_find_every_configured_view()
    {
        for (var start = 0; start < Starts; start += AtOnce)
            await Task.WhenAll(Enumerable.Range(start, AtOnce).Select(StartAndAsk));
    }

    private static async Task StartAndAsk(int start)
    {
        var read = JsonSerializer.Serialize(new { reads = new object[] { new { view = "credits", key = "a1" }, new { view = "merchant_totals", key = "m1" } } });
        await using var journal = TestJournal.Create(JournalProvider.Sqlite);
        await using var node = await NodeProcess.StartReadyAsync(journal.Environment);
        var (status, body, _) = await node.PostJson("v1/read", read);
        Assert.True(status == 200, $"start {start}: the first read after /readyz answered {status}: {body}");
        var (feed, subscribed, problem) = await ServerSentEvents.OpenAsync(node.Http, "v1/subscribe?view=credits");
        Assert.True(subscribed == 200, $"start {start}: the first subscription after /readyz answered {subscribed}: {problem}");
        if (feed is not null) await feed.DisposeAsync();
        await node.KillAsync();
    }
}
