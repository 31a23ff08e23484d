// Client-side visibility for ContextLake: one long-poll at a time on GET /v1/epoch?after=STREAM@NEXT answers
// as soon as an epoch commits the next unseen record; every record that epoch covers is visible from then on.
using System.Diagnostics;

namespace ContextLake.Benchmarks.Support;

public static class EpochWatcher
{
    public static async Task WatchAsync(HttpClient http, string stream, Visibility visibility, long records, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        long seen = 0;
        while (seen < records && clock.Elapsed < deadline)
        {
            using var response = await http.GetAsync($"v1/epoch?after={Uri.EscapeDataString(stream)}@{seen + 1}&timeout=2s");
            if (!response.IsSuccessStatusCode) continue; // 504: nothing new committed within 2 s; ask again
            var epoch = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (!epoch.GetProperty("vector").TryGetProperty(stream, out var committed)) continue;
            var upTo = committed.GetInt64(); // Kafka offset + 1: records [0, upTo) are committed
            visibility.Seen(seen, upTo);
            seen = Math.Max(seen, upTo);
        }
    }
}
