// 10. Overload: writers that never back off, posting far faster than the node ingests, for a minute (5 s in --quick).
// The write streams hold at most Writes:MaxPendingEvents accepted-but-unapplied events (default 100,000) and answer
// 429 past it at once; the scenario measures what that bound is for: the node's resident memory stays flat while the
// offered load is a multiple of what it commits, every 200 is committed, and every 429 wrote nothing (the credits view,
// one row per transfer, counts the accepted events exactly). A broken promise throws, so --quick (a test) fails.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Overload;

public static class OverloadScenario
{
    private const int Writers = 160, Batch = 1_000, Accounts = 10, DistinctBodies = 64;

    /// <summary>The stated bound: the node's resident memory under overload at most this much above where it was before.</summary>
    private const long RssBound = 4L << 30;

    public static async Task<string> RunAsync(bool quick)
    {
        var seconds = quick ? 5 : 60;
        var md = new StringBuilder();
        md.AppendLine($"## 10. Overload: writers that never back off, for {seconds} s");
        md.AppendLine();
        await using var node = await BenchNode.StartAsync();
        await WaitReadable(node.Http, "credits");

        // Capacity first: what 8 writers that wait for their answers get committed (the ingest scenario's load).
        var run = Guid.NewGuid().ToString("N")[..8];
        var warm = HttpLoad.Bodies(quick ? 20 : 100, Batch, i => Transfer(run + "-warm", i));
        var capacity = await HttpLoad.RunAsync(node.Http, warm, Batch, 8, TimeSpan.FromSeconds(quick ? 3 : 10));
        await Task.Delay(2000);

        var bodies = HttpLoad.Bodies(DistinctBodies, Batch, i => Transfer(run, i));
        var before = node.Process.ResidentBytes;
        var peak = before;
        var samples = new List<(double Seconds, long Bytes)>();
        long accepted = 0, refused = 0, refusedMicros = 0;
        var positions = new WritePositions();
        var otherStatuses = new List<string>();
        var clock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                var rss = node.Process.ResidentBytes;
                peak = Math.Max(peak, rss);
                lock (samples) samples.Add((clock.Elapsed.TotalSeconds, rss));
                await Task.Delay(250);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; clock.Elapsed < TimeSpan.FromSeconds(seconds); i += Writers)
            {
                using var content = new ByteArrayContent(bodies[i % bodies.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var sent = Stopwatch.GetTimestamp();
                using var response = await node.Http.PostAsync("v1/events", content);
                var answer = await response.Content.ReadAsByteArrayAsync();
                switch ((int)response.StatusCode)
                {
                    case 200:
                        using (var doc = JsonDocument.Parse(answer))
                        {
                            Interlocked.Add(ref accepted, doc.RootElement.GetProperty("written").GetInt64());
                            positions.Add(doc.RootElement);
                        }
                        break;
                    case 429:
                        Interlocked.Increment(ref refused);
                        Interlocked.Add(ref refusedMicros, (long)Stopwatch.GetElapsedTime(sent).TotalMicroseconds);
                        break;
                    default:
                        lock (otherStatuses) otherStatuses.Add($"{(int)response.StatusCode}: {Encoding.UTF8.GetString(answer)}");
                        break;
                }
            }
        })));
        var wall = clock.Elapsed.TotalSeconds;
        await positions.WaitCommittedAsync(node.Http, TimeSpan.FromMinutes(3));
        var committedAt = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;

        if (otherStatuses.Count > 0)
            throw new InvalidOperationException($"{otherStatuses.Count} writes answered neither 200 nor 429, the first: {otherStatuses[0]}");
        long counted = 0;
        for (var a = 0; a < Accounts; a++)
            counted += (await Get(node.Http, $"v1/views/credits/{run}-a{a}?{positions.AfterQuery}&timeout=60s"))
                .GetProperty("values").GetProperty("n").GetInt64();
        if (counted != accepted)
            throw new InvalidOperationException($"the credits view counts {counted} transfers of this run, the writes answered 200 for {accepted}: " +
                                                "an accepted write was lost or a refused one was written");

        var offered = (accepted + refused * Batch) / wall;
        var growth = peak - before;
        // Bounded means it stops growing: resident memory at each quarter of the run.
        string At(double fraction)
        {
            lock (samples)
                return samples.Count == 0 ? "-" : $"{samples.MinBy(x => Math.Abs(x.Seconds - fraction * seconds)).Bytes / 1048576:N0}";
        }
        md.AppendLine($"{Writers} writers post batches of {Batch:N0} transfers back to back for {seconds} s and never wait on a 429 " +
                      $"(default `Writes:MaxPendingEvents`, 100,000). Capacity, measured first with 8 writers that wait for their answers: " +
                      $"{capacity.EventsPerSecond:N0} ev/s committed. Resident memory (VmRSS of the node) sampled every 250 ms from just before the load until it was committed.");
        md.AppendLine();
        md.AppendLine(Table(["figure", "value"],
        [
            ["offered (200 and 429 answers × batch) ev/s", $"{offered:N0} ({F(offered / capacity.EventsPerSecond, "0.0")}× capacity)"],
            ["accepted and committed ev/s", $"{accepted / committedAt:N0}"],
            ["answered 200 (events)", $"{accepted:N0}"],
            ["answered 429 (batches)", $"{refused:N0}"],
            ["mean time to answer a 429, ms", F(refused == 0 ? 0 : refusedMicros / (double)refused / 1000)],
            ["credits rows counted for the run", $"{counted:N0} (= accepted: every 200 committed, every 429 wrote nothing)"],
            ["node RSS before / peak / growth", $"{before / 1048576:N0} / {peak / 1048576:N0} / {growth / 1048576:N0} MiB"],
            ["node RSS at ¼, ½, ¾ and the end of the load", $"{At(0.25)} / {At(0.5)} / {At(0.75)} / {At(1)} MiB"],
        ]));
        Aims.Record($"overload ({seconds} s of writers that never back off): node RSS growth ≤ {RssBound >> 20:N0} MiB, every 200 committed, every 429 wrote nothing",
            $"{growth / 1048576:N0} MiB at {F(offered / capacity.EventsPerSecond, "0.0")}× capacity offered; {accepted:N0} accepted = {counted:N0} counted",
            growth <= RssBound);
        return md.ToString();
    }

    private static object Transfer(string run, long i) => new
    {
        type = "transfer", id = $"{run}-t{i}", data = new { from_account = $"{run}-src", to_account = $"{run}-a{i % Accounts}", amount = 1 },
    };
}
