// Several HTTP write streams on one node (Writes:Streams = 4, on SQLite and on PostgreSQL): batches without
// idempotency keys spread over the streams the node hosts, each stream numbers its offsets from 1 without a gap or
// a repeat, a batch with keys goes to the stream its first key hashes to and, sent again, is answered with the first
// positions and written nothing; every acknowledged event is applied once; /readyz names every stream answering.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Writes;

public abstract class WriteStreamsSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private const int Streams = 4;

    [Fact]
    public async Task batches_spread_over_the_streams_offsets_are_gap_free_per_stream_and_a_retried_keyed_batch_is_written_once()
    {
        await using var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment) { ["ContextLake__Writes__Streams"] = $"{Streams}" });
        var (ready, readiness) = await node.GetJson("readyz");
        Assert.True(ready == 200 && readiness.GetProperty("writeLogAnswering").GetBoolean(), readiness.ToString());

        // Keyless batches, concurrently: each stream's offsets run from 1 without a gap.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async b =>
        {
            var (status, body, _) = await node.PostJson("v1/events?wait=applied", NodeClient.Events(
                Enumerable.Range(0, 3).Select(i => (object)new { type = "transfer", id = $"t{(b + i) % 10}", data = new { amount = 1 } }).ToArray()));
            Assert.True(status == 200, $"{status} {body}");
            return body;
        }));
        var byStream = answers.GroupBy(a => a.GetProperty("stream").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
        Assert.All(byStream.Keys, s => Assert.Matches(@"^http:writes/[0-3]$", s));
        Assert.True(byStream.Count == Streams, $"40 batches went to {byStream.Count} of {Streams} streams: {string.Join(", ", byStream.Keys)}");
        foreach (var (stream, mine) in byStream)
            Assert.Equal(Enumerable.Range(1, 3 * mine.Count).Select(i => (long)i),
                mine.SelectMany(a => a.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64())).Order());
        var written = new NodeClient.Written();
        foreach (var a in answers) written.Add(a);
        var after = string.Join("&", written.After.Select(p => $"after={Uri.EscapeDataString(p)}"));
        long counted = 0;
        for (var t = 0; t < 10; t++)
        {
            var (status, entity) = await node.GetJson($"v1/entities/transfer/t{t}?{after}&timeout=30s");
            Assert.True(status == 200, $"{status} {entity}");
            counted += entity.GetProperty("events").GetProperty("count").GetInt64();
        }
        Assert.Equal(120, counted);

        // Keyed batches: each goes to the stream of its first key; sent again, it is answered with the first positions.
        var keyedStreams = new HashSet<string>();
        for (var b = 0; b < 12; b++)
        {
            var batch = NodeClient.Events(
                new { type = "transfer", id = $"k{b}", key = $"batch-{b}-0", data = new { amount = 2 } },
                new { type = "transfer", id = $"k{b}", key = $"batch-{b}-1", data = new { amount = 3 } });
            var (status, first, _) = await node.PostJson("v1/events", batch);
            Assert.True(status == 200, $"{status} {first}");
            Assert.Equal(2, first.GetProperty("written").GetInt32());
            var (again, second, _) = await node.PostJson("v1/events", batch);
            Assert.True(again == 200, $"{again} {second}");
            Assert.Equal(first.GetProperty("stream").GetString(), second.GetProperty("stream").GetString());
            Assert.Equal(first.GetProperty("offsets").GetRawText(), second.GetProperty("offsets").GetRawText());
            Assert.Equal(0, second.GetProperty("written").GetInt32());
            var entity = await node.Entity("transfer", $"k{b}", NodeClient.Position(second));
            Assert.Equal(2, entity.GetProperty("events").GetProperty("count").GetInt64());
            keyedStreams.Add(first.GetProperty("stream").GetString()!);
        }
        Assert.True(keyedStreams.Count >= 2, $"12 keyed batches all hashed to {string.Join(", ", keyedStreams)}");
    }
}

public sealed class SqliteWriteStreamsSpec() : WriteStreamsSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlWriteStreamsSpec() : WriteStreamsSpec(JournalProvider.PostgreSql);
