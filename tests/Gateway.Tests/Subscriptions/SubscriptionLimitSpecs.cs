// The bounds of GET /v1/subscribe, on a node with a short history (2 s), a small lag bound (20 epochs)
// and room for two subscribers: a resume point beyond the history is refused (410), a client that does
// not read is cut off with a final error event (its changes are not buffered by the node), and one
// subscriber too many gets 503.
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Subscriptions;

public sealed class LimitedSubscriptionsNode : SqliteNodeLifetime
{
    public const int MaxLagEpochs = 20;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ContextLake__Epochs__History"] = "00:00:02",
        ["ContextLake__Subscriptions__MaxLagEpochs"] = MaxLagEpochs.ToString(CultureInfo.InvariantCulture),
        ["ContextLake__Subscriptions__MaxSubscribers"] = "2",
    };
}

public sealed class SubscriptionLimitSpecs(LimitedSubscriptionsNode fixture) : IClassFixture<LimitedSubscriptionsNode>
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);
    private NodeProcess Node => fixture.Node;

    private async Task<long> WriteCard(string card, string merchant = "m1")
    {
        var (status, body, _) = await Node.PostJson("v1/events", NodeClient.Events(
            new { type = "card_tx", id = Guid.NewGuid().ToString("N"), data = new { card_id = card, merchant_id = merchant, amount = 1 } }));
        Assert.True(status == 200, $"write answered {status}");
        return body.GetProperty("last").GetInt64();
    }

    [Fact]
    public async Task a_resume_point_older_than_the_history_is_refused_with_410()
    {
        await Bank.WaitForViewsAsync(Node, "card_velocity");
        var (feed, status, problem) = await OpenWhenRoom(Node.Http, "v1/subscribe?view=card_velocity&key=h1");
        Assert.True(status == 200, $"subscribe answered {status}: {problem}");
        var snapshot = await feed!.NextAsync(EventTimeout);
        await feed.DisposeAsync();

        // History is 2 s: keep epochs moving until the snapshot's epoch leaves it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await WriteCard("h2");
            await Task.Delay(200);
            (feed, status, problem) = await ServerSentEvents.OpenAsync(Node.Http, "v1/subscribe?view=card_velocity&key=h1", snapshot!.Id);
            if (feed is not null) await feed.DisposeAsync();
        } while (status is 200 or 503 && DateTime.UtcNow < deadline);
        Assert.Equal(410, status);
        Assert.Contains($"epoch {snapshot!.Id} is older than this node can replay", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_client_that_does_not_read_is_cut_off_with_the_reason_and_not_buffered()
    {
        await Node.PostJson("v1/views", """{"sql":"CREATE VIEW card_notes AS SELECT card_id, LAST(merchant_id) AS note FROM card_tx GROUP BY card_id"}""");
        await Bank.WaitForViewsAsync(Node, "card_notes");
        // A small receive buffer, so the connection fills after a few events, as it would for a slow reader far away.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancel) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancel);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = Node.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var (feed, status, problem) = await OpenWhenRoom(http, "v1/subscribe?view=card_notes&key=slow");
        Assert.True(status == 200, $"subscribe answered {status}: {problem}");
        await using var _ = feed!;

        // Each write changes the key to a 16 KB note: the feed grows by twice that per epoch while the client reads nothing.
        var note = new string('x', 16 * 1024);
        var writes = 0;
        var before = await CutOffs();
        while (await CutOffs() == before)
        {
            Assert.True(writes < 600, "the node never cut the client off");
            for (var i = 0; i < 10; i++, writes++) await WriteCard("slow", note + writes);
        }

        var changes = 0;
        ServerSentEvent? e;
        var last = default(ServerSentEvent);
        while ((e = await feed!.NextAsync(EventTimeout)) is not null)
        {
            last = e;
            if (e.Event == "change") changes++;
        }
        Assert.NotNull(last);
        Assert.Equal("error", last!.Event);
        Assert.Contains("the client read too slowly", last.Data.GetProperty("detail").GetString());
        // What the node held for it is bounded: the changes it had not sent when it cut the client off were never queued.
        Assert.True(changes < writes, $"{changes} changes of {writes} writes reached the client");
    }

    [Fact]
    public async Task one_subscriber_more_than_the_node_serves_gets_503()
    {
        await Bank.WaitForViewsAsync(Node, "credits");
        var open = new List<ServerSentEvents>();
        try
        {
            var status = 200;
            System.Text.Json.JsonElement problem = default;
            for (var i = 0; i < 3 && status == 200; i++)
            {
                (var feed, status, problem) = await ServerSentEvents.OpenAsync(Node.Http, "v1/subscribe?view=credits&key=a1");
                if (feed is not null) open.Add(feed);
            }
            Assert.Equal(503, status);
            Assert.Contains("ContextLake:Subscriptions:MaxSubscribers", problem.GetProperty("detail").GetString());
        }
        finally
        {
            foreach (var feed in open) await feed.DisposeAsync();
        }
    }

    /// <summary>Subscribes, waiting while the two places are still held by feeds an earlier spec closed (the node notices a close within seconds).</summary>
    private static async Task<(ServerSentEvents? Events, int Status, System.Text.Json.JsonElement Problem)> OpenWhenRoom(HttpClient http, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var opened = await ServerSentEvents.OpenAsync(http, path);
            if (opened.Status != 503 || DateTime.UtcNow > deadline) return opened;
            await Task.Delay(200);
        }
    }

    /// <summary>Subscriptions the node has cut off so far, for any reason (a client that stops reading may trip the lag bound or the 2 s history first).</summary>
    private async Task<double> CutOffs()
    {
        var text = await Node.Http.GetStringAsync("metrics");
        return Regex.Matches(text, "^contextlake_subscriptions_cut_off_total\\{reason=\"(lagging|horizon)\"\\} ([0-9.eE+-]+)$", RegexOptions.Multiline)
            .Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }
}
