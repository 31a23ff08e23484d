// The engine at stream rate agrees with SQL: a million transfers over a hundred thousand entities go in at once
// through HTTP (batches of a thousand from several writers) and through a Kafka topic read by a kafka connector,
// into the same entity type. At three epochs (one while the load runs, one near its end, the final one) every
// key of the credits and debits views equals SELECT … GROUP BY over the journal rows that epoch commits (the
// journal database read directly, each event kept when its offset is at or below the epoch's vector for its
// stream), and the journal holds every event sent or produced exactly once.
using System.Diagnostics;
using System.Text.Json;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.State;

[Collection(RunsAlone.Name)]
public abstract class ScaleOracleSpec(JournalProvider provider, ITestOutputHelper output) : JournalLifetime(provider)
{
    private const int Events = 1_000_000;
    private const int HttpEvents = Events / 2;
    private const int KafkaEvents = Events - HttpEvents;
    private const int Entities = 100_000;
    private const int Accounts = 1000;
    private const int BatchSize = 1000;
    private const int HttpWriters = 4;
    private const string Connector = "scale";
    private const int KafkaBacklog = 40_000;

    private sealed record Checkpoint(string Name, long Epoch, IReadOnlyDictionary<string, long> Vector,
        IReadOnlyDictionary<(string View, string Key), (long N, decimal Total)> Values);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Transfer number <paramref name="i"/>: its entity (one of <see cref="Entities"/>), accounts and amount.</summary>
    private static (string Id, string From, string To, int Amount) TransferOf(int i)
    {
        var from = (int)((i * 7919L) % Accounts);
        var to = (from + 1 + (int)((i * 104729L) % (Accounts - 1))) % Accounts;
        return ($"t{i % Entities}", $"a{from}", $"a{to}", i % 97 + 1);
    }

    private static object EventOf(int i)
    {
        var (id, from, to, amount) = TransferOf(i);
        return new { type = "transfer", id, data = new { from_account = from, to_account = to, amount } };
    }

    [Fact]
    public async Task a_million_transfers_over_http_and_kafka_at_once_agree_with_sql_over_the_journal_at_three_epochs_and_are_journaled_once()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        var environment = new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
        };
        await using var node = await NodeProcess.StartReadyAsync(environment);
        try
        {
            await Run(node, kafka);
        }
        catch
        {
            output.WriteLine($"--- node output ---\n{node.Output}");
            throw;
        }
    }

    private async Task Run(NodeProcess node, MockKafkaCluster kafka)
    {
        await Bank.WaitForViewsAsync(node);
        Log("node ready");

        using var topic = new TransferTopic(kafka, "transfers");
        var producing = Task.Run(() => Produce(topic, node));
        var (created, body, _) = await node.PostJson("v1/connectors", topic.Connector(Connector, BatchSize));
        Assert.True(created == 201, $"{created} {body}");

        var acknowledged = 0L;
        var nextBatch = -1;
        var writers = Enumerable.Range(0, HttpWriters).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref nextBatch)) < HttpEvents / BatchSize)
            {
                var events = Enumerable.Range(b * BatchSize, BatchSize).Select(EventOf).ToArray();
                var (status, answer, _) = await node.PostJson("v1/events", NodeClient.Events(events));
                Assert.True(status == 200, $"batch {b} answered {status}: {answer}");
                Interlocked.Add(ref acknowledged, BatchSize);
            }
        })).ToList();

        var checkpoints = new List<Checkpoint>();
        await WaitUntil(() => Interlocked.Read(ref acknowledged) >= HttpEvents / 3, "a third of the HTTP batches acknowledged", [.. writers, producing]);
        checkpoints.Add(await ReadAllAccounts(node, "during the load", after: []));
        await WaitUntil(() => Interlocked.Read(ref acknowledged) >= HttpEvents * 9 / 10, "nine tenths of the HTTP batches acknowledged", [.. writers, producing]);
        checkpoints.Add(await ReadAllAccounts(node, "near the end", after: []));

        await Task.WhenAll(writers);
        var watermarks = await producing;
        Log($"all {HttpEvents} HTTP events acknowledged and {KafkaEvents} records produced");
        var ends = topic.Ends(Connector, watermarks).Append($"http:writes@{HttpEvents}").ToArray();
        var final = await ReadAllAccounts(node, "final", ends);
        checkpoints.Add(final);
        Log("final epoch read");

        // The load was under way at the first checkpoint, and further on at the second.
        var committedAt = checkpoints.Select(c => c.Vector.Values.Sum()).ToList();
        Assert.True(committedAt[0] > 0 && committedAt[0] < committedAt[1] && committedAt[1] < Events,
            $"the epochs read commit {string.Join(", ", committedAt)} of {Events} events: not one during the load and one nearer its end");
        Assert.Equal(Events, committedAt[2]);

        TransferTopic.AssertNothingPruned(node.Output);

        await using var journal = await JournalTransfers.LoadAsync(Journal);
        Log("journal loaded");
        var (journaled, positions, entities) = await journal.CountAsync();
        Assert.True(journaled == Events && positions == Events && entities == Entities,
            $"the journal holds {journaled} transfer events at {positions} distinct (stream, offset) over {entities} entities; sent {Events} over {Entities}");
        foreach (var checkpoint in checkpoints)
        {
            foreach (var (view, column) in new[] { ("credits", "to_account"), ("debits", "from_account") })
            {
                var sql = await journal.GroupAsync(column, checkpoint.Vector);
                var wrong = checkpoint.Values.Where(kv => kv.Key.View == view && kv.Value != sql.GetValueOrDefault(kv.Key.Key)).Take(5)
                    .Select(kv => $"{view}/{kv.Key.Key}: view {kv.Value}, SQL {sql.GetValueOrDefault(kv.Key.Key)}").ToList();
                Assert.True(wrong.Count == 0, $"epoch {checkpoint.Epoch} ({checkpoint.Name}): {string.Join("; ", wrong)}");
                Assert.True(sql.Keys.All(k => checkpoint.Values.ContainsKey((view, k))), $"SQL groups a key the view was not read for: {string.Join(", ", sql.Keys.Take(5))}");
            }
            output.WriteLine($"epoch {checkpoint.Epoch} ({checkpoint.Name}) commits {checkpoint.Vector.Values.Sum()} events: every key equals SQL");
        }

        // The final values equal what the clients sent and produced.
        var sent = new Dictionary<(string View, string Key), (long N, decimal Total)>();
        foreach (var (_, from, to, amount) in Enumerable.Range(0, Events).Select(TransferOf))
        {
            var (cn, ct) = sent.GetValueOrDefault(("credits", to));
            sent[("credits", to)] = (cn + 1, ct + amount);
            var (dn, dt) = sent.GetValueOrDefault(("debits", from));
            sent[("debits", from)] = (dn + 1, dt + amount);
        }
        var unlike = final.Values.Where(kv => kv.Value != sent.GetValueOrDefault(kv.Key)).Take(5)
            .Select(kv => $"{kv.Key.View}/{kv.Key.Key}: view {kv.Value}, sent {sent.GetValueOrDefault(kv.Key)}").ToList();
        Assert.True(unlike.Count == 0, $"final values unlike what was sent: {string.Join("; ", unlike)}");

        Log("done");
    }

    /// <summary>Every account's credits and debits at one epoch (two reads: a read holds at most 1000 items).</summary>
    private async Task<Checkpoint> ReadAllAccounts(NodeProcess node, string name, string[] after)
    {
        var values = new Dictionary<(string, string), (long, decimal)>();
        long? epoch = null;
        IReadOnlyDictionary<string, long>? vector = null;
        var deadline = DateTime.UtcNow.AddSeconds(180);
        foreach (var view in new[] { "credits", "debits" })
        {
            while (true)
            {
                var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
                {
                    reads = Enumerable.Range(0, Accounts).Select(a => new { view, key = $"a{a}" }).ToArray(),
                    epoch,
                    after = epoch is null ? after : [],
                    timeout = "30s",
                }));
                if (status == 504 && DateTime.UtcNow < deadline) continue;
                Assert.True(status == 200, $"read of {view} ({name}) answered {status}: {answer}");
                var e = answer.GetProperty("epoch");
                epoch = e.GetProperty("n").GetInt64();
                vector ??= e.GetProperty("vector").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
                foreach (var r in answer.GetProperty("results").EnumerateArray())
                {
                    var v = r.GetProperty("values");
                    values[(view, r.GetProperty("key").GetString()!)] = (v.GetProperty("n").GetInt64(), v.GetProperty("total").GetDecimal());
                }
                break;
            }
        }
        Log($"read every account at epoch {epoch} ({name})");
        return new Checkpoint(name, epoch!.Value, vector!, values);
    }

    /// <summary>
    /// Produces the Kafka half while the HTTP writers write, never more than <see cref="KafkaBacklog"/> records ahead of
    /// what the node has committed of the topic (the mock broker keeps a bounded log per partition); returns each
    /// partition's high watermark once all of it is delivered.
    /// </summary>
    private static async Task<Dictionary<int, long>> Produce(TransferTopic topic, NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(300);
        for (var i = HttpEvents; i < Events; i++)
        {
            if ((i - HttpEvents) % 5000 == 0)
                while (true)
                {
                    var (status, epoch) = await node.GetJson("v1/epoch");
                    Assert.True(status == 200, $"GET /v1/epoch answered {status}: {epoch}");
                    if (topic.Produced - topic.Committed(Connector, epoch.GetProperty("vector")) <= KafkaBacklog) break;
                    Assert.True(DateTime.UtcNow < deadline, $"the connector did not keep up with the producer within 300 s ({topic.Produced} produced)");
                    await Task.Delay(50);
                }
            var (id, from, to, amount) = TransferOf(i);
            topic.Produce(id, from, to, amount);
        }
        return topic.Flush();
    }

    /// <summary>Waits (bounded) for <paramref name="condition"/>; a writer (or the producer) that failed fails the wait with its own error.</summary>
    private static async Task WaitUntil(Func<bool> condition, string what, IEnumerable<Task> writers)
    {
        var deadline = DateTime.UtcNow.AddSeconds(300);
        while (!condition())
        {
            if (writers.FirstOrDefault(w => w.IsFaulted) is { } failed) await failed;
            Assert.True(DateTime.UtcNow < deadline, $"not within 300 s: {what}");
            await Task.Delay(20);
        }
    }

    private void Log(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
}

public sealed class SqliteScaleOracleSpec(ITestOutputHelper output) : ScaleOracleSpec(JournalProvider.Sqlite, output);
