// GET /metrics exports the node's telemetry in Prometheus text: ingest per stream, stream-to-serve
// delay, epochs, journal writes and read latency per endpoint, with values that follow what happened.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
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
        Assert.True(Value(metrics, "contextlake_journal_write_seconds_count") >= 10);
        Assert.True(Value(metrics, "contextlake_apply_seconds_count{phase=\"views\"}") >= 5);
        Assert.Matches("http_request_duration_seconds_count\\{[^}]*endpoint=\"/v1/read\"", metrics);
    }
}
