// What every scenario shares: where charts go, HTTP calls to a node, percentiles, Markdown tables.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ContextLake.Benchmarks.Support;

public static class Bench
{
    /// <summary>Folder the PNG charts are written to, and how docs/benchmarks.md links it.</summary>
    public static string ChartsDirectory { get; set; } = Path.Combine("docs", "benchmarks");

    public static string ChartsLink { get; set; } = "benchmarks";

    /// <summary>The journal the scenarios' nodes use: SQLite, or with --postgres a fresh database on CONTEXTLAKE_TEST_POSTGRES.</summary>
    public static ContextLake.Platform.Hosting.JournalProvider Journal { get; set; } = ContextLake.Platform.Hosting.JournalProvider.Sqlite;

    public static readonly TimeSpan NoTimeout = TimeSpan.FromMinutes(2);

    /// <summary>A progress line on stderr (the report is written at the end): where a scenario is, and since when.</summary>
    public static void Progress(string message) => Console.Error.WriteLine($"benchmarks:   {DateTime.Now:HH:mm:ss} {message}");

    public static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

    public static async Task<JsonElement> Post(HttpClient http, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> Get(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<string> GetText(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Waits (long-polls of GET /v1/epoch, a minute each) until an epoch commits <paramref name="stream"/> up to <paramref name="offset"/>.</summary>
    public static async Task WaitCommittedAsync(HttpClient http, string stream, long offset, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await http.GetAsync($"v1/epoch?after={Uri.EscapeDataString(stream)}@{offset}&timeout=1m");
            if (response.IsSuccessStatusCode) return;
            if (clock.Elapsed > deadline || response.StatusCode != System.Net.HttpStatusCode.GatewayTimeout)
                throw new TimeoutException($"{stream}@{offset} was not committed within {deadline} (last answer {(int)response.StatusCode})");
        }
    }

    /// <summary>Waits until the configured views exist and are readable (created just after startup).</summary>
    public static async Task WaitReadable(HttpClient http, params string[] views)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var view in views)
            while (true)
            {
                using var response = await http.GetAsync($"v1/views/{view}");
                if (response.IsSuccessStatusCode &&
                    JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("readable").GetBoolean()) break;
                if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"view {view} did not become readable");
                await Task.Delay(50);
            }
    }

    /// <summary>Nearest-rank percentile of milliseconds.</summary>
    public static double P(IReadOnlyList<double> values, double percentile)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    public static string Table(string[] header, IEnumerable<string[]> rows, int leftColumns = 1)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("| " + string.Join(" | ", header.Select((_, i) => i < leftColumns ? "---" : "---:")) + " |");
        foreach (var row in rows) sb.AppendLine("| " + string.Join(" | ", row) + " |");
        return sb.ToString();
    }

    /// <summary>Sum of a Prometheus series (every label set that starts with the given prefix).</summary>
    public static double Scraped(string metrics, string seriesPrefix, string contains = "") =>
        metrics.Split('\n')
            .Where(l => l.StartsWith(seriesPrefix, StringComparison.Ordinal) && l.Contains(contains, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
