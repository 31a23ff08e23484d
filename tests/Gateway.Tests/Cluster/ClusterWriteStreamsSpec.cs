// No single writer: three node processes on one PostgreSQL journal share eight HTTP write streams (the default), placed
// by sharding. A batch with idempotency keys sent through one node and retried through the others is written once: its
// first key names its stream wherever it arrives. When a node is killed, writes through the survivors of keys the
// survivors own go on at once (each goes to a stream its node hosts), long before the dead node is even downed; and
// once it is, its streams recover on the survivors and a batch they had taken, retried through a survivor, is still
// written once.
using System.Diagnostics;
using System.Text.Json;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Cluster;

[Collection(NodeClusters.Name)]
public sealed class ClusterWriteStreamsSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.PostgreSql)
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task a_keyed_batch_retried_through_another_node_is_written_once_and_writes_through_survivors_go_on_while_a_node_is_down()
    {
        using var kafka = new MockKafkaCluster();
        var environment = new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__Cluster__StableAfter"] = $"{StableAfter}",
            ["ContextLake__Http__WriteTimeout"] = "00:00:05",
        };
        await using var cluster = await NodeCluster.StartAsync(3, environment);
        for (var i = 0; i < cluster.Size; i++) await Bank.WaitForViewsAsync(cluster[i]);
        var addresses = new string[cluster.Size];
        for (var i = 0; i < cluster.Size; i++) addresses[i] = (await cluster[i].GetJson("admin/cluster/members")).Body.GetProperty("self").GetString()!;

        // Sharding spreads the write streams and the entity partitions over the nodes: wait until every node hosts some and
        // nothing has moved for longer than two rebalance rounds (a hand-off under way when node 2 dies stalls its shard).
        var writes = await SpreadAsync(cluster, "writes", addresses, WriteLogOptions.DefaultStreams(JournalProvider.PostgreSql));
        var entities = await SpreadAsync(cluster, "entity", addresses, StateOptions.DefaultPartitions(JournalProvider.PostgreSql));
        output.WriteLine("write streams per node: " + string.Join("; ", addresses.Select((a, i) => $"node {i}: {string.Join(",", writes[a])}")));

        // A keyed batch, sent through each node and retried through the other two: one stream, one set of offsets, written once.
        var streams = new HashSet<string>();
        for (var b = 0; b < 9; b++)
        {
            var batch = Keyed($"retry-{b}");
            var (status, first) = await cluster.TryPostJson(b % 3, "v1/events", batch);
            Assert.True(status == 200, $"batch {b} through node {b % 3}: {status} {first}");
            Assert.Equal(2, first.GetProperty("written").GetInt32());
            streams.Add(first.GetProperty("stream").GetString()!);
            foreach (var other in new[] { (b + 1) % 3, (b + 2) % 3 })
            {
                var (again, retried) = await cluster.TryPostJson(other, "v1/events", batch);
                Assert.True(again == 200, $"batch {b} retried through node {other}: {again} {retried}");
                Assert.Equal(first.GetProperty("stream").GetString(), retried.GetProperty("stream").GetString());
                Assert.Equal(first.GetProperty("offsets").GetRawText(), retried.GetProperty("offsets").GetRawText());
                Assert.Equal(0, retried.GetProperty("written").GetInt32());
            }
        }
        Assert.True(streams.Count >= 2, $"nine keyed batches all went to {string.Join(", ", streams)}");

        // A keyed batch taken by a stream node 2 hosts, to retry after node 2 is gone.
        var victimStreams = writes[addresses[2]].Select(s => int.Parse(s)).ToHashSet();
        var orphan = Enumerable.Range(0, 1000).Select(k => $"orphan-{k}").First(k => victimStreams.Contains(KeyGroups.PartitionOf($"{k}-0", 8)));
        var (orphanStatus, orphanFirst) = await cluster.TryPostJson(2, "v1/events", Keyed(orphan));
        Assert.True(orphanStatus == 200, $"{orphanStatus} {orphanFirst}");

        // Keys whose entity partitions the survivors own: their writes need nothing of node 2.
        var survivorPartitions = addresses.Take(2).SelectMany(a => entities[a]).Select(int.Parse).ToHashSet();
        var ids = Enumerable.Range(0, 10_000).Select(i => $"p{i}")
            .Where(id => survivorPartitions.Contains(KeyGroups.PartitionOf($"ping/{id}", StateOptions.DefaultPartitions(JournalProvider.PostgreSql))))
            .Take(400).ToArray();

        await cluster.KillAsync(2);
        var clock = Stopwatch.StartNew();
        var acknowledged = new List<(TimeSpan At, int Node, string Stream, long Offset, string Id)>();
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(n => Task.Run(async () =>
        {
            for (var i = n; i < ids.Length && clock.Elapsed < StableAfter * 0.75; i += 2)
            {
                var (status, answer) = await cluster.TryPostJson(n, "v1/events", NodeClient.Events(new { type = "ping", id = ids[i], data = new { n = i } }));
                if (status != 200)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }
                lock (acknowledged)
                    acknowledged.Add((clock.Elapsed, n, answer.GetProperty("stream").GetString()!, answer.GetProperty("last").GetInt64(), ids[i]));
            }
        })));
        var firstAck = acknowledged.Count == 0 ? TimeSpan.MaxValue : acknowledged.Min(a => a.At);
        var times = acknowledged.Select(a => a.At).Order().Prepend(TimeSpan.Zero).ToList();
        var longestGap = times.Zip(times.Skip(1), (a, b) => b - a).DefaultIfEmpty().Max();
        output.WriteLine($"after the SIGKILL of node 2: {acknowledged.Count} single-event batches acknowledged through nodes 0 and 1 within {clock.Elapsed.TotalSeconds:0.0} s " +
                         $"(before it was downed at {StableAfter.TotalSeconds:0} s), {failures} not; the first after {firstAck.TotalMilliseconds:0} ms, longest gap {longestGap.TotalMilliseconds:0} ms; " +
                         $"streams {string.Join(", ", acknowledged.Select(a => a.Stream).Distinct().Order())}");
        Assert.True(acknowledged.Count >= 20, $"only {acknowledged.Count} writes through the survivors were acknowledged while node 2 was down ({failures} not)");
        Assert.True(longestGap < TimeSpan.FromSeconds(3), $"writes through the survivors stopped for {longestGap} while node 2 was down");
        Assert.DoesNotContain(acknowledged, a => victimStreams.Contains(int.Parse(a.Stream[(a.Stream.IndexOf('/') + 1)..])));

        // Node 2 is downed, its streams recover on the survivors: the batch one of them took, retried through node 0, is not written again.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var (status, retried) = await cluster.TryPostJson(0, "v1/events", Keyed(orphan));
            if (status == 200)
            {
                Assert.Equal(orphanFirst.GetProperty("stream").GetString(), retried.GetProperty("stream").GetString());
                Assert.Equal(orphanFirst.GetProperty("offsets").GetRawText(), retried.GetProperty("offsets").GetRawText());
                Assert.Equal(0, retried.GetProperty("written").GetInt32());
                output.WriteLine($"the batch {orphan} of {retried.GetProperty("stream").GetString()} retried through node 0: written once, {clock.Elapsed.TotalSeconds:0.0} s after the kill");
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the retry of {orphan} was not answered within 120 s: {status} {retried}\n{cluster.Output}");
            await Task.Delay(200);
        }

        // Every acknowledged ping is there once.
        var after = acknowledged.GroupBy(a => a.Stream).Select(g => $"after={Uri.EscapeDataString($"{g.Key}@{g.Max(a => a.Offset)}")}").ToList();
        foreach (var a in acknowledged.Take(50))
        {
            var (status, entity) = await cluster[a.Node].GetJson($"v1/entities/ping/{a.Id}?{string.Join("&", after)}&timeout=30s");
            Assert.True(status == 200, $"{status} {entity}");
            Assert.Equal(1, entity.GetProperty("events").GetProperty("count").GetInt64());
        }
        var orphanEntity = await cluster[0].Entity("transfer", orphan, NodeClient.Position(orphanFirst));
        Assert.Equal(2, orphanEntity.GetProperty("events").GetProperty("count").GetInt64());
    }

    private static string Keyed(string name) => NodeClient.Events(
        new { type = "transfer", id = name, key = $"{name}-0", data = new { from_account = "a1", to_account = "a2", amount = 1 } },
        new { type = "transfer", id = name, key = $"{name}-1", data = new { from_account = "a2", to_account = "a1", amount = 1 } });

    /// <summary>Waits until every node hosts at least one shard of <paramref name="type"/> and all <paramref name="count"/> are placed: each node's shard ids.</summary>
    private static async Task<Dictionary<string, List<string>>> SpreadAsync(NodeCluster cluster, string type, string[] addresses, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var last = "";
        var stable = 0;
        while (true)
        {
            var (status, stats) = await cluster[0].GetJson($"admin/sharding/regions/{type}");
            if (status == 200)
            {
                var nodes = stats.GetProperty("nodes").EnumerateArray().ToDictionary(
                    n => n.GetProperty("address").GetString()!,
                    n => n.GetProperty("shards").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList());
                var text = stats.GetProperty("nodes").ToString();
                stable = text == last ? stable + 1 : 0;
                last = text;
                if (addresses.All(a => nodes.GetValueOrDefault(a)?.Count > 0) && nodes.Values.Sum(s => s.Count) == count && stable >= 24) return nodes;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the {type} shards did not spread over the nodes within 120 s: {status} {stats}");
            await Task.Delay(500);
        }
    }
}
