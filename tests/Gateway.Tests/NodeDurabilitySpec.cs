// A node as users run it, on SQLite and on PostgreSQL (one write stream, and eight): every acknowledged write
// is there after a graceful stop and after kill -9, never twice, each stream's offsets gap-free; idempotency
// keys hold across a kill.
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests;

public abstract class NodeDurabilitySpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static async Task<(string Stream, long Offset)[]> WriteConcurrently(NodeProcess node, int batches, int perBatch, string prefix)
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, batches).Select(async b =>
        {
            var events = Enumerable.Range(0, perBatch).Select(i => new
            {
                type = "transfer", id = $"{prefix}{(b + i) % 10}", data = new { amount = b * 100 + i },
            }).ToArray<object>();
            var (status, body, _) = await node.PostJson("v1/events", NodeClient.Events(events));
            Assert.True(status == 200, $"write answered {status}: {body}");
            var stream = body.GetProperty("stream").GetString()!;
            return body.GetProperty("offsets").EnumerateArray().Select(o => (stream, o.GetInt64())).ToArray();
        }));
        return answers.SelectMany(a => a).ToArray();
    }

    /// <summary>Counts at the first epoch that commits every acknowledged offset, as a client reading its own writes does.</summary>
    private static async Task<long> CountEvents(NodeProcess node, string prefix, (string Stream, long Offset)[] acknowledged)
    {
        var after = string.Join("&", acknowledged.GroupBy(a => a.Stream).Select(g => $"after={Uri.EscapeDataString($"{g.Key}@{g.Max(a => a.Offset)}")}"));
        long total = 0;
        for (var i = 0; i < 10; i++)
        {
            var (status, body) = await node.GetJson($"v1/entities/transfer/{prefix}{i}?{after}&timeout=30s");
            Assert.True(status == 200, $"GET entity transfer/{prefix}{i} answered {status}: {body}");
            total += body.GetProperty("events").GetProperty("count").GetInt64();
        }
        return total;
    }

    /// <summary>Each stream's offsets run from 1 without a gap or a repeat.</summary>
    private static void AssertGapFree((string Stream, long Offset)[] acknowledged)
    {
        foreach (var stream in acknowledged.GroupBy(a => a.Stream))
            Assert.Equal(Enumerable.Range(1, stream.Count()).Select(i => (long)i), stream.Select(a => a.Offset).Order());
    }

    [Fact]
    public async Task acknowledged_events_survive_a_graceful_stop_and_a_kill_and_none_is_counted_twice()
    {
        (string Stream, long Offset)[] acknowledged;
        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            acknowledged = await WriteConcurrently(node, batches: 30, perBatch: 5, prefix: "g");
            await node.StopAsync();
            Assert.Equal(0, node.ExitCode);
        }

        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            Assert.Equal(150, await CountEvents(node, "g", acknowledged));
            acknowledged = acknowledged.Concat(await WriteConcurrently(node, batches: 30, perBatch: 5, prefix: "k")).ToArray();
            await node.KillAsync();
        }

        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            Assert.Equal(150, await CountEvents(node, "g", acknowledged));
            Assert.Equal(150, await CountEvents(node, "k", acknowledged));
            Assert.Equal(300, acknowledged.Length);
            AssertGapFree(acknowledged);
            // Offsets continue where they stopped, in whichever stream the next batch goes to.
            var more = await WriteConcurrently(node, batches: 1, perBatch: 1, prefix: "n");
            AssertGapFree(acknowledged.Concat(more).ToArray());
        }
    }

    [Fact]
    public async Task an_idempotency_key_is_honoured_across_a_kill()
    {
        var write = NodeClient.Events(new { type = "account", id = "a1", kind = "upsert", key = "open-a1", data = new { balance = 10 } });
        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            var (status, body, _) = await node.PostJson("v1/events", write);
            Assert.Equal(200, status);
            Assert.Equal(1, body.GetProperty("first").GetInt64());
            await node.KillAsync();
        }

        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            var (status, body, _) = await node.PostJson("v1/events", write);
            Assert.Equal(200, status);
            Assert.Equal(1, body.GetProperty("first").GetInt64());
            Assert.Equal(0, body.GetProperty("written").GetInt32());
            var stream = body.GetProperty("stream").GetString()!;
            var account = await node.Entity("account", "a1", after: $"{stream}@1");
            Assert.Equal(10, account.GetProperty("state").GetProperty("balance").GetInt32());
            Assert.Equal(1, account.GetProperty("applied").GetProperty(stream).GetInt64());
        }
    }
}

public sealed class SqliteNodeDurabilitySpec() : NodeDurabilitySpec(JournalProvider.Sqlite);

public sealed class PostgreSqlNodeDurabilitySpec() : NodeDurabilitySpec(JournalProvider.PostgreSql);
