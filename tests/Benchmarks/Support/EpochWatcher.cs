// Client-side visibility for ContextLake: one long-poll at a time on GET /v1/epoch?after=STREAM@NEXT (the stream,
// of a topic's partition streams, that is furthest behind) answers as soon as an epoch commits its next unseen
// record; every record that epoch covers, in every partition's stream, is visible from then on.
using System.Diagnostics;

namespace ContextLake.Benchmarks.Support;

public static class EpochWatcher
{
    /// <summary>Watches the streams of a topic's partitions (streams[p] is partition p) until <paramref name="records"/> records are visible.</summary>
    public static async Task WatchAsync(HttpClient http, IReadOnlyList<string> streams, Visibility visibility, long records, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        var partitions = streams.Count;
        var seen = new long[partitions];
        // Partition p holds the records p, p + P, p + 2P, … of the topic's first `records`.
        var expected = Enumerable.Range(0, partitions).Select(p => (records - p + partitions - 1) / partitions).ToArray();
        while (visibility.Visible < records && clock.Elapsed < deadline)
        {
            var behind = Enumerable.Range(0, partitions).Where(p => seen[p] < expected[p]).DefaultIfEmpty(0).MinBy(p => seen[p]);
            using var response = await http.GetAsync($"v1/epoch?after={Uri.EscapeDataString(streams[behind])}@{seen[behind] + 1}&timeout=2s");
            if (!response.IsSuccessStatusCode) continue; // 504: nothing new committed within 2 s; ask again
            var vector = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("vector");
            for (var p = 0; p < partitions; p++)
            {
                if (!vector.TryGetProperty(streams[p], out var committed)) continue;
                var upTo = committed.GetInt64(); // Kafka offset + 1: offsets [0, upTo) of partition p are committed
                if (upTo <= seen[p]) continue;
                visibility.Seen(p, partitions, seen[p], upTo);
                seen[p] = upTo;
            }
        }
    }
}
