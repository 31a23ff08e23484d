// GET /metrics exports the node's telemetry in Prometheus text: ingest per stream, stream-to-serve
// delay, epochs, journal writes and read latency per endpoint, with values that follow what happened.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContextLake.Platform.Hosting;
using ContextLake.Gateway.Tests.Epochs;
using Xunit;

namespace ContextLake.Gateway.Tests.Operations;

public sealed class MetricsSpec : SqliteNodeLifetime
{
    private async Task<string> Scrape()
    {
        using var response = await Node.Http.GetAsync("metrics");
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Value(string metrics, string series)
    {
        var match = Regex.Match(metrics, "^" + Regex.Escape(series) + @" ([0-9.eE+-]+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no series {series} in:\n{metrics[..Math.Min(metrics.Length, 4000)]}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task the_metrics_follow_writes_epochs_and_reads()
    {
        await Bank.WaitForViewsAsync(Node);
        long last = 0;
        for (var i = 0; i < 5; i++)
        {
            var (_, body, _) = await Node.PostJson("v1/events", NodeClient.Events(Bank.Transfer(new Random(i)), Bank.Transfer(new Random(i + 100))));
            last = body.GetProperty("last").GetInt64();
        }
        var (status, _, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = new[] { new { view = "credits", key = "a1" } },
            after = new[] { $"http:writes@{last}" },
        }));
        Assert.Equal(200, status);

        var metrics = await Scrape();
        Assert.Equal(10, Value(metrics, "contextlake_ingest_events_total{connector=\"http\",stream=\"http:writes\"}"));
        Assert.True(Value(metrics, "contextlake_epoch_number") >= 1);
        Assert.True(Value(metrics, "contextlake_stream_to_serve_seconds_count{from=\"read\"}") >= 1);
        Assert.True(Value(metrics, "contextlake_journal_write_seconds_count{region=\"entity\"}") >= 1);
        Assert.True(Value(metrics, "contextlake_journal_write_seconds_count{region=\"view\"}") >= 1);
        Assert.True(Value(metrics, "contextlake_apply_seconds_count{phase=\"run\"}") >= 5);
        Assert.Matches("http_request_duration_seconds_count\\{[^}]*endpoint=\"/v1/read\"", metrics);
        // GC pauses since start: present from the first scrape, never more than the process has lived, never going back.
        Assert.Matches("(?m)^contextlake_gc_pause_seconds_total ", metrics);
        var paused = Value(metrics, "contextlake_gc_pause_seconds_total");
        Assert.InRange(paused, 0, (DateTime.Now - System.Diagnostics.Process.GetProcessById(Node.Id).StartTime).TotalSeconds);
        Assert.True(Value(await Scrape(), "contextlake_gc_pause_seconds_total") >= paused);
    }

    [Fact]
    public async Task every_metric_family_appears_with_sensible_values()
    {
        await Bank.WaitForViewsAsync(Node);
        var (_, written, _) = await Node.PostJson("v1/events", NodeClient.Events(Bank.Transfer(new Random(1)), Bank.Transfer(new Random(2)), Bank.Transfer(new Random(3))));
        var last = written.GetProperty("last").GetInt64();
        var (status, _, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = new[] { new { view = "credits", key = "a1" } },
            after = new[] { $"http:writes@{last}" },
        }));
        Assert.Equal(200, status);

        // A JSON-lines connector with one good card transaction and one line that is not JSON: a dead letter.
        var file = Path.Combine(Directory.CreateTempSubdirectory("contextlake-metrics-").FullName, "cards.jsonl");
        await File.WriteAllLinesAsync(file, ["{\"id\":\"x1\",\"card_id\":\"c1\",\"merchant_id\":\"m1\",\"amount\":5}", "not json"]);
        var (created, answer, _) = await Node.PostJson("v1/connectors", JsonSerializer.Serialize(new
        {
            name = "cards", config = new { type = "jsonl", path = file, entityType = "card_tx", idField = "id" },
        }));
        Assert.True(created == 201, $"connector not created: {answer}");
        var metrics = await ScrapeUntil(m => Has(m, "contextlake_dead_letters_total{connector=\"cards\"}") &&
                                             Has(m, "contextlake_ingest_events_total{connector=\"cards\",stream=\"file:cards\"}"));
        Assert.Equal(1, Value(metrics, "contextlake_dead_letters_total{connector=\"cards\"}"));
        Assert.Equal(1, Value(metrics, "contextlake_ingest_events_total{connector=\"cards\",stream=\"file:cards\"}"));

        // A view created at run time backfills the one card transaction.
        (created, answer, _) = await Node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW per_card AS SELECT card_id, COUNT(*) AS n FROM card_tx GROUP BY card_id",
        }));
        Assert.True(created is 200 or 201 or 202, $"view not created: {answer}");
        metrics = await ScrapeUntil(m => Has(m, "contextlake_view_backfill_partitions{view=\"per_card\",kind=\"done\"}")
                                         && Value(m, "contextlake_view_backfill_partitions{view=\"per_card\",kind=\"done\"}") == StateOptions.DefaultPartitions(JournalProvider.Sqlite)
                                         && Has(m, "contextlake_stream_lag_offsets{stream=\"http:writes\"}")
                                         && Value(m, "contextlake_stream_lag_offsets{stream=\"http:writes\"}") == 0);

        Assert.Equal(Value(metrics, "contextlake_view_backfill_partitions{view=\"per_card\",kind=\"total\"}"),
            Value(metrics, "contextlake_view_backfill_partitions{view=\"per_card\",kind=\"done\"}"));
        Assert.Equal(1, Value(metrics, "contextlake_view_backfill_events{view=\"per_card\"}"));
        Assert.Equal(3, Value(metrics, "contextlake_ingest_events_total{connector=\"http\",stream=\"http:writes\"}"));
        foreach (var from in new[] { "source", "read" })
        {
            Assert.True(Value(metrics, $"contextlake_stream_to_serve_seconds_count{{from=\"{from}\"}}") >= 1, $"no stream-to-serve delay from {from}");
            var sum = Value(metrics, $"contextlake_stream_to_serve_seconds_sum{{from=\"{from}\"}}");
            Assert.InRange(sum, 0, 600);
        }
        Assert.True(Value(metrics, "contextlake_epochs_total") >= 1);
        Assert.True(Value(metrics, "contextlake_epoch_number") >= 1);
        Assert.InRange(Value(metrics, "contextlake_stream_lag_seconds{stream=\"http:writes\"}"), 0, 60);
        foreach (var region in new[] { "entity", "view" })
        {
            // A partition journals each write's work as one row: a few rows for these few runs, none empty.
            var writes = Value(metrics, $"contextlake_journal_write_seconds_count{{region=\"{region}\"}}");
            Assert.True(writes >= 1, $"{writes} journal writes of the {region} partitions");
            Assert.InRange(Value(metrics, $"contextlake_journal_write_seconds_sum{{region=\"{region}\"}}") / writes, 0, 10);
            Assert.True(Value(metrics, $"contextlake_journal_batch_events_sum{{region=\"{region}\"}}") >= Value(metrics, $"contextlake_journal_batch_events_count{{region=\"{region}\"}}"),
                $"a {region} row of changes without changes");
        }
        Assert.Matches("http_request_duration_seconds_count\\{[^}]*endpoint=\"/v1/events\"", metrics);
        Assert.Matches("http_request_duration_seconds_count\\{[^}]*endpoint=\"/v1/read\"", metrics);
    }

    private static bool Has(string metrics, string series) =>
        Regex.IsMatch(metrics, "^" + Regex.Escape(series) + " ", RegexOptions.Multiline);

    private async Task<string> ScrapeUntil(Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var metrics = await Scrape();
            if (condition(metrics)) return metrics;
            if (DateTime.UtcNow > deadline) return metrics; // the assertions that follow say what is missing
            await Task.Delay(200);
        }
    }
}
