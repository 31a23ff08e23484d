// kill -9 in the middle of pipelined runs, ten times over: a node under steady load (HTTP writers whose
// batches carry idempotency keys and are sent again until acknowledged, and a Kafka topic produced at a steady
// pace into a kafka connector) is SIGKILLed and started again ten times. In the end nothing acknowledged or
// produced is lost or doubled: the views equal the clients' own record and SQL GROUP BY over the journal,
// which holds every transfer exactly once; every read balances, and epoch numbers never go back, neither
// across a restart nor for a reader that reads throughout.
using System.Text.Json;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.State;

public abstract class PipelinedKillSpec(JournalProvider provider, ITestOutputHelper output) : JournalLifetime(provider)
{
    private const int Cycles = 10;
    private const int Writers = 3;
    private const int BatchesPerCycle = 5;
    private const int KafkaRecords = 20_000;
    private const string Connector = "steady";

    private sealed record Sent(string From, string To, decimal Amount);

    private readonly List<Sent> _acknowledged = new();
    private readonly List<Sent> _produced = new();
    private long _batches;
    private long _retried;
    private long _lastOffset;
    private long _reads;
    private volatile bool _stop;
    private volatile bool _ready = true;

    [Fact]
    public async Task ten_kills_in_the_middle_of_pipelined_runs_lose_and_double_nothing_and_epochs_never_go_back()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        await using var cluster = await NodeCluster.StartAsync(1, new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__Http__WriteTimeout"] = "00:00:15",
        });
        await Bank.WaitForViewsAsync(cluster[0]);
        using var topic = new TransferTopic(kafka, "transfers");
        var (created, body, _) = await cluster[0].PostJson("v1/connectors", topic.Connector(Connector, batch: 200));
        Assert.True(created == 201, $"{created} {body}");

        var load = Enumerable.Range(0, Writers).Select(w => Task.Run(() => Write(cluster, w)))
            .Append(Task.Run(() => Read(cluster)))
            .Append(Task.Run(() => Produce(topic)))
            .ToList();
        var random = new Random(11);
        try
        {
            for (var cycle = 1; cycle <= Cycles; cycle++)
            {
                var target = Interlocked.Read(ref _batches) + BatchesPerCycle;
                var deadline = DateTime.UtcNow.AddSeconds(120);
                while (Interlocked.Read(ref _batches) < target)
                {
                    if (load.FirstOrDefault(t => t.IsFaulted) is { } failed) await failed;
                    Assert.True(DateTime.UtcNow < deadline, $"cycle {cycle}: only {_batches} of {target} batches acknowledged within 120 s");
                    await Task.Delay(20);
                }
                // Land the kill at a different point of the pipeline each time.
                await Task.Delay(random.Next(0, 250));
                var before = await LatestEpoch(cluster);
                _ready = false;
                await cluster.KillAsync(0);
                var restarting = DateTime.UtcNow;
                await cluster.StartNodeAsync(0);
                _ready = true;
                var after = await LatestEpoch(cluster);
                output.WriteLine($"kill {cycle}: epoch {before} before, {after} after the restart (ready in {(DateTime.UtcNow - restarting).TotalSeconds:0.0} s); " +
                                 $"{_batches} batches acknowledged so far, {_retried} of them sent again");
                Assert.True(after >= before, $"kill {cycle}: the restarted node numbers epochs from {after}, below {before} committed before the kill");
            }
        }
        finally
        {
            _stop = true;
            await Task.WhenAll(load);
        }

        var watermarks = topic.Flush();
        var ends = topic.Ends(Connector, watermarks).Append($"http:writes@{_lastOffset}").ToArray();
        Assert.True(_retried > 0, "no batch had to be sent again: no kill landed while a write was in flight");
        output.WriteLine($"{_acknowledged.Count} transfers in {_batches} acknowledged batches ({_retried} sent again), {_produced.Count} produced to Kafka, {_reads} balanced reads");
        await AssertNothingLostOrDoubled(cluster, ends);
        TransferTopic.AssertNothingPruned(cluster.Output);
    }

    /// <summary>One writer: numbered batches of transfers with idempotency keys, each sent again (same body) until acknowledged.</summary>
    private async Task Write(NodeCluster cluster, int w)
    {
        var random = new Random(100 + w);
        for (var b = 0; b < 100_000 && !_stop; b++)
        {
            var transfers = Enumerable.Range(0, 20 + random.Next(41)).Select(i => Bank.Transfer(random, key: $"w{w}-b{b}-e{i}")).ToArray();
            var body = NodeClient.Events(transfers);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            for (var attempt = 0; ; attempt++)
            {
                var (status, answer) = await Send(cluster, "v1/events", body);
                if (status == 200)
                {
                    lock (_acknowledged)
                    {
                        _acknowledged.AddRange(transfers.Select(SentOf));
                        _lastOffset = Math.Max(_lastOffset, answer.GetProperty("last").GetInt64());
                    }
                    if (attempt > 0) Interlocked.Increment(ref _retried);
                    Interlocked.Increment(ref _batches);
                    break;
                }
                // 202: journaled and applied, its epoch not within the write timeout; sent again, it is answered once committed.
                Assert.True(status is 0 or 202 or >= 500, $"batch w{w}-b{b} answered {status}: {answer}");
                Assert.True(DateTime.UtcNow < deadline, $"batch w{w}-b{b} was not acknowledged within 120 s:\n{cluster.Output}");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A reader throughout: every account at one epoch; each answer balances, and its epoch is never below the last one.</summary>
    private async Task Read(NodeCluster cluster)
    {
        long last = -1;
        var reads = Bank.ReadAllAccounts();
        while (!_stop)
        {
            var (status, answer) = await Send(cluster, "v1/read", reads);
            if (status == 200)
            {
                var n = answer.GetProperty("epoch").GetProperty("n").GetInt64();
                Assert.True(n >= last, $"a read answered epoch {n} after epoch {last}");
                Assert.True(Bank.Balance(answer) == 0m, $"unbalanced answer: {answer}");
                last = n;
                Interlocked.Increment(ref _reads);
            }
            else Assert.True(status is 0 or >= 500, $"read answered {status}: {answer}");
            await Task.Delay(20);
        }
    }

    /// <summary>Transfers into the topic at a steady pace (about 150 a second, through all the kills), up to <see cref="KafkaRecords"/>.</summary>
    private async Task Produce(TransferTopic topic)
    {
        var random = new Random(7);
        for (var i = 0; i < KafkaRecords && !_stop; i++)
        {
            var from = random.Next(Bank.Accounts);
            var to = (from + 1 + random.Next(Bank.Accounts - 1)) % Bank.Accounts;
            var sent = new Sent($"a{from}", $"a{to}", random.Next(1, 1000));
            topic.Produce($"k{i}", sent.From, sent.To, sent.Amount);
            _produced.Add(sent);
            if (i % 3 == 2) await Task.Delay(20);
        }
    }

    /// <summary>As clients behind a load balancer: nothing is sent to the node between the kill and its readiness (status 0).</summary>
    private Task<(int Status, JsonElement Body)> Send(NodeCluster cluster, string path, string body) =>
        _ready ? cluster.TryPostJson(0, path, body) : Task.FromResult((0, default(JsonElement)));

    private static Sent SentOf(object transfer)
    {
        var data = JsonSerializer.SerializeToElement(transfer).GetProperty("data");
        return new Sent(data.GetProperty("from_account").GetString()!, data.GetProperty("to_account").GetString()!, data.GetProperty("amount").GetDecimal());
    }

    private static async Task<long> LatestEpoch(NodeCluster cluster)
    {
        var (status, epoch) = await cluster[0].GetJson("v1/epoch");
        Assert.True(status == 200, $"GET /v1/epoch answered {status}: {epoch}");
        return epoch.GetProperty("n").GetInt64();
    }

    private async Task AssertNothingLostOrDoubled(NodeCluster cluster, string[] ends)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        (int Status, JsonElement Body) read;
        while (true)
        {
            read = await cluster.TryPostJson(0, "v1/read", JsonSerializer.Serialize(new
            {
                reads = JsonDocument.Parse(Bank.ReadAllAccounts()).RootElement.GetProperty("reads"),
                after = ends,
                timeout = "30s",
            }));
            if (read.Status == 200 || DateTime.UtcNow > deadline) break;
        }
        Assert.True(read.Status == 200, $"the final read answered {read.Status}: {read.Body}\n{cluster.Output}");
        var vector = read.Body.GetProperty("epoch").GetProperty("vector").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

        var all = _acknowledged.Concat(_produced).ToList();
        await using var journal = await JournalTransfers.LoadAsync(Journal);
        var (events, positions, entities) = await journal.CountAsync();
        Assert.True(events == all.Count && positions == all.Count && entities == all.Count,
            $"the journal holds {events} transfer events at {positions} distinct (stream, offset) of {entities} entities; {all.Count} were acknowledged or produced");
        var sql = new Dictionary<string, Dictionary<string, (long N, decimal Total)>>
        {
            ["credits"] = await journal.GroupAsync("to_account", vector),
            ["debits"] = await journal.GroupAsync("from_account", vector),
        };
        foreach (var r in read.Body.GetProperty("results").EnumerateArray())
        {
            var view = r.GetProperty("view").GetString()!;
            var key = r.GetProperty("key").GetString()!;
            var got = (r.GetProperty("values").GetProperty("n").GetInt64(), r.GetProperty("values").GetProperty("total").GetDecimal());
            var mine = all.Where(t => (view == "credits" ? t.To : t.From) == key).ToList();
            Assert.True(got == (mine.Count, mine.Sum(t => t.Amount)), $"{view}/{key}: view {got}; clients sent {mine.Count}, {mine.Sum(t => t.Amount)}");
            Assert.True(got == sql[view].GetValueOrDefault(key), $"{view}/{key}: view {got}; SQL over the journal {sql[view].GetValueOrDefault(key)}");
        }
    }
}

public sealed class SqlitePipelinedKillSpec(ITestOutputHelper output) : PipelinedKillSpec(JournalProvider.Sqlite, output);
