// Subscription delivery delay: 100 subscribers of GET /v1/subscribe (ten per card of card_velocity, the
// sample domain's live velocity feed) while single card transactions are written at a steady rate; the
// delay is from the epoch's commit (its committedAt) to the change event arriving at the client.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Subscriptions;

public static class SubscriptionScenario
{
    private const int Subscribers = 100;
    private const int Cards = 10;
    private const int WritesPerSecond = 20;

    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 3 : 15;
        await using var journal = TestJournal.Create(JournalProvider.Sqlite);
        var environment = new Dictionary<string, string>(journal.Environment) { ["ContextLake__ConnectorsFile"] = "" };
        await using var node = await NodeProcess.StartReadyAsync(environment);
        using var http = new HttpClient { BaseAddress = node.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        await WaitReadable(http, "card_velocity");

        var feeds = new List<ServerSentEvents>();
        for (var i = 0; i < Subscribers; i++)
        {
            var (feed, status, problem) = await ServerSentEvents.OpenAsync(http, $"v1/subscribe?view=card_velocity&key=bench-c{i % Cards}");
            if (feed is null) throw new InvalidOperationException($"subscribe answered {status}: {problem}");
            if ((await feed.NextAsync(TimeSpan.FromSeconds(30)))?.Event != "snapshot") throw new InvalidOperationException("no snapshot");
            feeds.Add(feed);
        }

        // Warm-up, not measured: one write per card creates its view key and every feed's first read.
        for (var c = 0; c < Cards; c++) await Write(http, $"bench-warm-{c}", c);
        foreach (var feed in feeds)
            if ((await feed.NextAsync(TimeSpan.FromSeconds(60)))?.Event != "change") throw new InvalidOperationException("no warm-up change");

        var writes = WritesPerSecond * seconds;
        var perCard = writes / Cards;
        var delays = new List<double>[Subscribers];
        var readers = feeds.Select((feed, i) => Task.Run(async () =>
        {
            var mine = delays[i] = new List<double>(perCard);
            // Each card gets writes / Cards single-event writes, each its own change event.
            while (mine.Count < perCard)
            {
                var e = await feed.NextAsync(TimeSpan.FromSeconds(60)) ?? throw new InvalidOperationException("a feed ended");
                if (e.Event != "change") throw new InvalidOperationException($"unexpected {e.Event}: {e.Data}");
                var committed = e.Data.GetProperty("epoch").GetProperty("committedAt").GetDateTimeOffset();
                mine.Add((e.ReceivedAt - committed).TotalMilliseconds);
            }
        })).ToList();

        var clock = Stopwatch.StartNew();
        var interval = TimeSpan.FromSeconds(1.0 / WritesPerSecond);
        for (var w = 0; w < perCard * Cards; w++)
        {
            var due = interval * w;
            if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
            await Write(http, $"bench-{w}", w);
        }
        var all = Task.WhenAll(readers);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60))) != all)
            throw new TimeoutException($"subscribers received {delays.Sum(d => d?.Count ?? 0)} of {perCard * Subscribers} changes within a minute");
        await all;
        foreach (var feed in feeds) await feed.DisposeAsync();

        var samples = delays.SelectMany(d => d).Order().ToList();
        var report = new StringBuilder();
        report.AppendLine($"## Subscription delivery delay (epoch committed → change event received), {Subscribers} subscribers");
        report.AppendLine();
        report.AppendLine($"{Subscribers} SSE subscribers of `card_velocity` ({Subscribers / Cards} per card, {Cards} cards), {WritesPerSecond} single-event writes/s for {seconds} s; " +
                          "each write is one epoch and one change event to each subscriber of its card (after a warm-up write per card).");
        report.AppendLine();
        report.AppendLine("| events | p50 ms | p99 ms | p99.9 ms | max ms |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        report.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| {samples.Count} | {P(samples, 50):0.00} | {P(samples, 99):0.00} | {P(samples, 99.9):0.00} | {samples[^1]:0.00} |"));
        return report.ToString();
    }

    /// <summary>One card transaction for card bench-c{n % Cards}.</summary>
    private static async Task Write(HttpClient http, string id, int n)
    {
        var body = JsonSerializer.Serialize(new
        {
            events = new[] { new { type = "card_tx", id, data = new { card_id = $"bench-c{n % Cards}", merchant_id = $"m{n % 7}", amount = 1 + n % 50 } } },
        });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("v1/events", content);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"write answered {(int)response.StatusCode}");
    }

    private static async Task WaitReadable(HttpClient http, string view)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await http.GetAsync($"v1/views/{view}");
            if (response.IsSuccessStatusCode &&
                JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("readable").GetBoolean()) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"view {view} did not become readable");
            await Task.Delay(50);
        }
    }

    private static double P(List<double> sorted, double percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
