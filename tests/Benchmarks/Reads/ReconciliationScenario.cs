// 11. Decisions on the record: a million transfers journaled over HTTP while clients record 3-key decision reads;
// then an as-of read of 3 keys at an epoch older than the in-memory history (answered from the journal), p50/p99;
// then one reconciliation job over every decision recorded, decisions/s and the outcomes. (The cost of recording a
// decision read beside an unrecorded one is in section 3.)
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Benchmarks.Support;
using static ContextLake.Benchmarks.Support.Bench;

namespace ContextLake.Benchmarks.Reads;

public static class ReconciliationScenario
{
    private const int Writers = 8, Batch = 1_000, Clients = 8;
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public static async Task<string> RunAsync(bool quick)
    {
        var events = quick ? 20_000 : 1_000_000;
        var decisions = quick ? 2_000 : 100_000;
        var asOfReads = quick ? 5 : 30;
        var md = new StringBuilder();
        md.AppendLine("## 11. Decisions on the record: as-of reads from the journal and reconciliation");
        md.AppendLine();
        // A 2 s history, so that the as-of reads below are older than it after a short wait.
        await using var node = await BenchNode.StartAsync(new Dictionary<string, string> { ["ContextLake__Epochs__History"] = "00:00:02" });
        await WaitReadable(node.Http, "credits", "debits");

        var transfers = BankWorkload.Transfers(events, seed: 11, prefix: "d");
        var bodies = HttpLoad.Bodies(events / Batch, Batch, i => transfers[i].ToEvent());
        var from = DateTimeOffset.UtcNow;
        long made = 0;
        (long Index, JsonElement Answer)? early = null;
        byte[] Decision(long i) => JsonSerializer.SerializeToUtf8Bytes(new
        {
            decision = $"rec-{i}",
            reads = new object[] { new { entity = $"transfer/{transfers[i * 7 % events].Id}" }, new { view = "credits", key = $"a{i % 10}" }, new { view = "debits", key = $"a{i % 10}" } },
        });

        Progress($"decisions: {events:N0} transfers over HTTP while {Clients} clients record {decisions:N0} decisions");
        var writing = HttpLoad.RunAsync(node.Http, bodies, Batch, Writers, TimeSpan.FromMinutes(10));
        var recording = Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            long i;
            while ((i = Interlocked.Increment(ref made)) <= decisions)
            {
                using var content = new ByteArrayContent(Decision(i));
                content.Headers.ContentType = Json;
                using var response = await node.Http.PostAsync("v1/read", content);
                var answer = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"decision read answered {(int)response.StatusCode}: {answer}");
                if (i >= decisions / 10 && early is null)
                {
                    var doc = JsonDocument.Parse(answer).RootElement;
                    if (doc.GetProperty("epoch").GetProperty("n").GetInt64() > 0)
                        lock (transfers) early ??= (i, doc.Clone());
                }
            }
        })));
        var load = await writing;
        var recordingClock = Stopwatch.StartNew();
        await recording;
        var to = DateTimeOffset.UtcNow.AddSeconds(1);

        // An as-of read of the 3 keys of an early decision, at its epoch: out of the history once a newer epoch is 2 s younger.
        await Task.Delay(3000);
        var nudge = await Post(node.Http, "v1/events", JsonSerializer.Serialize(new { events = new[] { new { type = "transfer", id = "nudge", data = new { from_account = "a0", to_account = "a1", amount = 1 } } } }));
        await WaitCommittedAsync(node.Http, nudge.GetProperty("stream").GetString()!, nudge.GetProperty("last").GetInt64(), TimeSpan.FromSeconds(30));
        var (earlyIndex, earlyAnswer) = early!.Value;
        var epoch = earlyAnswer.GetProperty("epoch").GetProperty("n").GetInt64();
        var asOf = JsonSerializer.Serialize(new { epoch, reads = JsonDocument.Parse(Decision(earlyIndex)).RootElement.GetProperty("reads") });
        var latencies = new List<double>();
        var served = "";
        var same = true;
        for (var r = 0; r < asOfReads; r++)
        {
            var clock = Stopwatch.StartNew();
            var answer = await Post(node.Http, "v1/read", asOf);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            served = answer.GetProperty("epoch").TryGetProperty("served", out var s) ? s.GetString() ?? "" : "memory";
            same &= answer.GetProperty("results").GetRawText() == earlyAnswer.GetProperty("results").GetRawText();
        }

        Progress("decisions: reconciling every recorded decision");
        var job = await Post(node.Http, "v1/reconciliations", JsonSerializer.Serialize(new { from, to }));
        var id = job.GetProperty("id").GetString();
        var usage = await NodeUsage.StartAsync(node);
        var reconcileClock = Stopwatch.StartNew();
        while (job.GetProperty("state").GetString() is "running" or "Running" && reconcileClock.Elapsed < TimeSpan.FromMinutes(20))
        {
            await Task.Delay(500);
            job = await Get(node.Http, $"v1/reconciliations/{id}");
        }
        var reconcileUsage = await usage.StopAsync();
        long Count(string name) => job.GetProperty(name).GetInt64();
        var perSecond = Count("checked") / reconcileClock.Elapsed.TotalSeconds;

        md.AppendLine($"{load.Events:N0} transfers among 10 accounts written over HTTP ({Writers} writers, batches of {Batch}; {F(load.EventsPerSecond, "0")} ev/s to committed) " +
                      $"while {Clients} clients recorded {decisions:N0} decision reads back to back, each of 3 keys (a transfer entity, `credits` and `debits` of an account), " +
                      $"the recording going on {F(recordingClock.Elapsed.TotalSeconds, "0.0")} s past the writes. The node ran with `Epochs:History` of 2 s. " +
                      $"Then the 3 keys of the first decision recorded past a tenth of the way (at an epoch after the first) were read {asOfReads} times, one after another, at that decision's epoch {epoch}, " +
                      "long out of the history, so answered from the journal: each read scans the rows of the partitions holding the 3 keys. " +
                      "Then one reconciliation job (`POST /v1/reconciliations`) over every decision recorded, followed until done.");
        md.AppendLine();
        md.AppendLine(Table(["measure", "value"],
        [
            ["as-of read of 3 keys from the journal, p50 / p99 / max", $"{F(P(latencies, 50), "0.0")} / {F(P(latencies, 99), "0.0")} / {F(latencies.Max(), "0.0")} ms ({latencies.Count} reads, served: {served})"],
            ["as-of answers equal to what the decision was answered at that epoch", same ? "all" : "**not all**"],
            ["decisions reconciled", $"{Count("checked"):N0} of {Count("total"):N0} in {F(reconcileClock.Elapsed.TotalSeconds, "0.0")} s = {F(perSecond, "0")} decisions/s"],
            ["outcomes: unchanged / changed / defect / not checkable", $"{Count("unchanged"):N0} / {Count("changed"):N0} / {Count("defects"):N0} / {Count("notCheckable"):N0}"],
            ["node CPU during the reconciliation", $"{F(reconcileUsage.NodeCores, "0.00")} cores of {Environment.ProcessorCount}"],
        ]));
        md.AppendLine();
        md.AppendLine("A defect is a value the journal recomputes differently at the decision's epoch from what was answered; the job must find none. " +
                      "\"Changed\" counts decisions whose effective state (every event with an event time at or before the read time, as the journal holds " +
                      "them after the run) differs from the answer: here transfers carry no event time, so each takes its arrival time, and a transfer " +
                      "accepted before a decision read but committed after it is such a change.");
        md.AppendLine();
        return md.ToString();
    }
}
