// Many nodes, nothing lost: three node processes on loopback ports with one PostgreSQL journal run the bank
// workload through all three gateways while the oldest node (host of the epoch coordinator, the other singletons
// and some of the write streams) is killed with SIGKILL and started again, and then another node leaves with SIGTERM.
// Every answer balances, no client sees its epoch go backward (it passes the vector it last saw as `after`),
// the new coordinator continues the numbering, and at the end the views equal both the clients' own record
// and SQL GROUP BY over the PostgreSQL journal, with every transfer journaled exactly once.
using System.Diagnostics;
using System.Text.Json;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Cluster;

[Collection(ContextLake.Gateway.Tests.Cluster.NodeClusters.Name)]
public sealed class ClusterChaosSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.PostgreSql)
{
    private readonly BankLedger _ledger = new();
    private readonly List<(TimeSpan Start, TimeSpan End, long Epoch)> _reads = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _acknowledged;
    private volatile bool _chaosDone;

    [Fact]
    public async Task through_a_sigkill_of_the_coordinators_node_and_a_graceful_leave_answers_balance_epochs_continue_and_nothing_is_lost_or_doubled()
    {
        using var kafka = new MockKafkaCluster();
        var environment = new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__Cluster__DrainPeriod"] = "00:00:01",
            ["ContextLake__Http__WriteTimeout"] = "00:00:15",
        };
        await using var cluster = await NodeCluster.StartAsync(3, environment);
        for (var i = 0; i < cluster.Size; i++) await Bank.WaitForViewsAsync(cluster[i]);

        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() => Write(cluster, w))).ToList();
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() => Read(cluster, r))).ToList();
        try
        {
            await WaitForBatches(15);

            // SIGKILL the oldest node: the coordinator's, and some write streams'.
            var (_, before) = await cluster[1].GetJson("v1/epoch");
            var epochAtKill = before.GetProperty("n").GetInt64();
            var killedAt = _clock.Elapsed;
            await cluster.KillAsync(0);
            // The committed epoch moves again when a write sent after the kill is committed: that needs the
            // new coordinator, on another node (and the write's stream, wherever it is).
            var committedAfter = await WriteAndCommit(cluster, "after-kill") - killedAt;
            var readGap = LongestReadGap(killedAt, await WaitForReadAnsweredAfter(_clock.Elapsed));
            output.WriteLine($"SIGKILL of node 0 (epoch {epochAtKill}): a write sent after it committed after {committedAfter.TotalSeconds:0.0} s; " +
                             $"longest time without an answered read {readGap.TotalSeconds:0.0} s");

            await cluster.StartNodeAsync(0);
            var (_, restarted) = await cluster[0].GetJson("v1/epoch");
            var restartedEpoch = restarted.GetProperty("n").GetInt64();
            Assert.True(restartedEpoch > epochAtKill, $"the new coordinator numbered from {restartedEpoch}, not after {epochAtKill}");
            await WaitForBatches(Interlocked.Read(ref _acknowledged) + 10);

            var leftAt = _clock.Elapsed;
            var exit = await cluster.LeaveAsync(1);
            Assert.True(exit == 0, $"node 1 exited with {exit} after SIGTERM:\n{cluster[1].Output}");
            var leftIn = _clock.Elapsed - leftAt;
            var committedAfterLeave = await WriteAndCommit(cluster, "after-leave") - leftAt;
            var leaveGap = LongestReadGap(leftAt, await WaitForReadAnsweredAfter(_clock.Elapsed));
            output.WriteLine($"SIGTERM of node 1: exited after {leftIn.TotalSeconds:0.0} s; a write sent after it committed {committedAfterLeave.TotalSeconds:0.0} s after the signal; " +
                             $"longest time without an answered read {leaveGap.TotalSeconds:0.0} s");
            await WaitForBatches(Interlocked.Read(ref _acknowledged) + 10);

            Assert.True(readGap < TimeSpan.FromSeconds(60), $"reads stopped for {readGap} after the SIGKILL");
        }
        finally
        {
            _chaosDone = true;
            await Task.WhenAll(writers.Concat(readers));
        }

        foreach (var line in cluster.Output.Split('\n').Where(l => l.StartsWith("---", StringComparison.Ordinal) ||
                     l.Contains("resumes at epoch", StringComparison.Ordinal) || l.Contains("SBR took decision", StringComparison.Ordinal)))
            output.WriteLine(line);
        output.WriteLine($"{_reads.Count} balanced reads, {_ledger.Count} transfers in {_acknowledged} acknowledged batches");
        Assert.Empty(await _ledger.DifferencesAsync(cluster[2], ((PostgresTestJournal)Journal).ConnectionString));
    }

    /// <summary>One writer: numbered batches with idempotency keys, sent to node after node; a batch not
    /// answered 200 (a node down, a 503, or a 202 whose epoch had not come yet) is sent again (same keys) to the next node
    /// until it is.</summary>
    private async Task Write(NodeCluster cluster, int w)
    {
        var random = new Random(w);
        for (var b = 0; b < 2000 && !_chaosDone; b++)
        {
            var transfers = Enumerable.Range(0, 1 + random.Next(3)).Select(i => Bank.Transfer(random, key: $"w{w}-b{b}-e{i}")).ToArray();
            var body = NodeClient.Events(transfers);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            for (var node = (w + b) % cluster.Size; ; node = (node + 1) % cluster.Size)
            {
                Assert.True(DateTime.UtcNow < deadline, $"batch w{w}-b{b} was not acknowledged within 90 s:\n{cluster.Output}");
                var (status, answer) = await Send(cluster, node, "v1/events", body);
                if (status == 200)
                {
                    _ledger.Acknowledged(transfers, answer);
                    Interlocked.Increment(ref _acknowledged);
                    break;
                }
                // 202: journaled and applied, not yet committed within the write timeout (an epoch needs the new coordinator):
                // sent again with the same keys, it is answered 200 once an epoch commits it, and written only once.
                Assert.True(status is 0 or 202 or >= 500, $"write answered {status}: {answer}");
                await Task.Delay(100);
            }
            await Task.Delay(20);
        }
    }

    /// <summary>One reader (one client): every account's credits and debits in one read, from node after node,
    /// passing as `after` the vector it last saw so that no node answers it older.</summary>
    private async Task Read(NodeCluster cluster, int r)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        long lastEpoch = -1;
        var reads = Bank.ReadAllAccounts();
        var mine = 0;
        for (var i = 0; i < 100_000 && !(_chaosDone && mine >= 20); i++)
        {
            var node = (r + i) % cluster.Size;
            var body = JsonSerializer.Serialize(new
            {
                reads = JsonDocument.Parse(reads).RootElement.GetProperty("reads"),
                after = seen.Select(kv => $"{kv.Key}@{kv.Value}").ToArray(),
                timeout = "10s",
            });
            var start = _clock.Elapsed;
            var (status, answer) = await Send(cluster, node, "v1/read", body);
            if (status != 200)
            {
                Assert.True(status is 0 or >= 500, $"read answered {status}: {answer}");
                await Task.Delay(50);
                continue;
            }
            var epoch = answer.GetProperty("epoch");
            var n = epoch.GetProperty("n").GetInt64();
            Assert.True(n >= lastEpoch, $"reader {r}: node {node} answered epoch {n} after epoch {lastEpoch}");
            Assert.True(Bank.Balance(answer) == 0m, $"reader {r}: unbalanced answer from node {node}: {answer}");
            lastEpoch = n;
            foreach (var s in epoch.GetProperty("vector").EnumerateObject()) seen[s.Name] = s.Value.GetInt64();
            lock (_reads) _reads.Add((start, _clock.Elapsed, n));
            mine++;
            await Task.Delay(10);
        }
    }

    /// <summary>Status 0: the node refused the connection or is not running.</summary>
    private static Task<(int Status, JsonElement Body)> Send(NodeCluster cluster, int node, string path, string body) =>
        cluster.TryPostJson(node, path, body);

    private async Task WaitForBatches(long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (Interlocked.Read(ref _acknowledged) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {_acknowledged} of {count} batches acknowledged within 120 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Sends one transfer to the running nodes until one acknowledges it, then reads until an epoch
    /// commits it; returns when that read was answered.</summary>
    private async Task<TimeSpan> WriteAndCommit(NodeCluster cluster, string key)
    {
        var transfer = Bank.Transfer(new Random(key.Length), key);
        var body = NodeClient.Events(transfer);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        string? position = null;
        for (var node = 1; position is null; node = (node + 1) % cluster.Size)
        {
            Assert.True(DateTime.UtcNow < deadline, $"write {key} was not acknowledged within 120 s");
            var (status, answer) = await Send(cluster, node, "v1/events", body);
            if (status == 200)
            {
                _ledger.Acknowledged([transfer], answer);
                position = NodeClient.Position(answer);
            }
            else await Task.Delay(50);
        }
        for (var node = 1; ; node = (node + 1) % cluster.Size)
        {
            Assert.True(DateTime.UtcNow < deadline, $"write {key} ({position}) was not committed within 120 s");
            var (status, _) = await Send(cluster, node, "v1/read", JsonSerializer.Serialize(new
            {
                reads = new[] { new { view = "credits", key = "a0" } }, after = new[] { position }, timeout = "5s",
            }));
            if (status == 200) return _clock.Elapsed;
            await Task.Delay(50);
        }
    }

    /// <summary>When the first read answered after <paramref name="since"/> was answered.</summary>
    private async Task<TimeSpan> WaitForReadAnsweredAfter(TimeSpan since)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            lock (_reads)
                if (_reads.Any(x => x.End > since)) return _reads.Where(x => x.End > since).Min(x => x.End);
            Assert.True(DateTime.UtcNow < deadline, "no read was answered for 120 s");
            await Task.Delay(20);
        }
    }

    /// <summary>The longest stretch within [from, to] in which no reader got an answer.</summary>
    private TimeSpan LongestReadGap(TimeSpan from, TimeSpan to)
    {
        List<TimeSpan> ends;
        lock (_reads) ends = _reads.Select(x => x.End).Where(e => e > from && e < to).Order().Prepend(from).Append(to).ToList();
        return ends.Zip(ends.Skip(1), (a, b) => b - a).Max();
    }
}
