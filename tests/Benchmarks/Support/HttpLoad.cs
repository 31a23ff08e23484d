// HTTP write load as the suite makes it, cheap for the cores it shares with the node: request bodies serialized
// before the clock starts, writers posting them back to back (each one request at a time) over keep-alive
// connections, bounded by a duration and by the bodies prepared; the figure is taken when the committed epoch
// covers the last answered offset of every write stream (events/s to committed, not merely accepted).
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ContextLake.Benchmarks.Support;

/// <summary>Events posted, seconds until all were committed, seconds until the last was answered, where the writes ended in each write stream.</summary>
public sealed record HttpLoadResult(long Events, double Seconds, double AnsweredSeconds, WritePositions Positions)
{
    public double EventsPerSecond => Events / Seconds;
}

public static class HttpLoad
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary><paramref name="count"/> POST /v1/events bodies of <paramref name="perBody"/> events; <paramref name="event"/> makes event i (over all bodies).</summary>
    public static byte[][] Bodies(int count, int perBody, Func<long, object> @event) =>
        Enumerable.Range(0, count)
            .Select(b => JsonSerializer.SerializeToUtf8Bytes(new { events = Enumerable.Range(0, perBody).Select(i => @event((long)b * perBody + i)).ToArray() }))
            .ToArray();

    /// <summary>Posts the bodies with <paramref name="writers"/> concurrent writers until all are posted or <paramref name="duration"/> is up, then waits until they are committed.</summary>
    public static Task<HttpLoadResult> RunAsync(HttpClient http, byte[][] bodies, int perBody, int writers, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        return RunAsync(http, bodies, perBody, writers, i => i < bodies.Length && clock.Elapsed < duration);
    }

    /// <summary>Posts the bodies again and again (body i mod count) while <paramref name="more"/> holds, at most ten minutes: a steady load to profile.</summary>
    public static Task<HttpLoadResult> RepeatAsync(HttpClient http, byte[][] bodies, int perBody, int writers, Func<bool> more)
    {
        var clock = Stopwatch.StartNew();
        return RunAsync(http, bodies, perBody, writers, _ => more() && clock.Elapsed < TimeSpan.FromMinutes(10));
    }

    private static async Task<HttpLoadResult> RunAsync(HttpClient http, byte[][] bodies, int perBody, int writers, Func<int, bool> post)
    {
        var next = -1;
        var positions = new WritePositions();
        long posted = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while (post(i = Interlocked.Increment(ref next)))
            {
                using var content = new ByteArrayContent(bodies[i % bodies.Length]);
                content.Headers.ContentType = Json;
                using var response = await http.PostAsync("v1/events", content);
                var answer = await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"POST v1/events answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(answer)}");
                using var doc = JsonDocument.Parse(answer);
                positions.Add(doc.RootElement);
                Interlocked.Add(ref posted, perBody);
            }
        })));
        var answered = clock.Elapsed.TotalSeconds;
        await positions.WaitCommittedAsync(http, TimeSpan.FromMinutes(3));
        return new HttpLoadResult(posted, clock.Elapsed.TotalSeconds, answered, positions);
    }
}
