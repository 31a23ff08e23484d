// The JSON-lines connector as users run it: declared over REST, records reach entities and views,
// bad lines (not JSON, no id, a number outside the numeric range) become dead letters with their reason, pause holds the stream, and after kill -9 the
// connector resumes after the committed line: nothing lost, nothing twice.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Connectors;

public sealed class JsonLinesConnectorSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    private readonly string _file = Path.Combine(Directory.CreateTempSubdirectory("contextlake-jsonl-").FullName, "card_tx.jsonl");

    private IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>(Journal.Environment)
    {
        ["ContextLake__ConnectorsFile"] = "",
    };

    private static string Tx(int i, int amount) => JsonSerializer.Serialize(new { id = $"f{i}", card_id = "c1", merchant_id = $"m{i % 3}", amount });

    private static async Task<long> Total(NodeProcess node, long expectedCount)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var n = 0L;
            var total = 0m;
            for (var m = 0; m < 3; m++)
            {
                var (_, v) = await node.GetJson($"v1/views/merchant_totals/m{m}");
                n += v.GetProperty("values").GetProperty("n").GetInt64();
                total += v.GetProperty("values").GetProperty("total").GetDecimal();
            }
            if (n >= expectedCount || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expectedCount, n);
                return (long)total;
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task lines_reach_the_views_once_bad_lines_are_dead_letters_and_a_kill_resumes_after_the_committed_line()
    {
        await File.WriteAllLinesAsync(_file, Enumerable.Range(1, 50).Select(i => Tx(i, i)).Append("{broken").Append("""{"card_id": "no id"}""")
            .Append("""{"id": "huge", "card_id": "c1", "merchant_id": "m0", "amount": 1e300}"""));
        var config = JsonSerializer.Serialize(new
        {
            name = "cards",
            config = new { type = "jsonl", path = _file, entityType = "card_tx", idField = "id", batch = 7 },
        });

        await using (var node = await NodeProcess.StartReadyAsync(Environment))
        {
            await Bank.WaitForViewsAsync(node, "merchant_totals");
            var (created, body, _) = await node.PostJson("v1/connectors", config);
            Assert.True(created == 201, $"{created} {body}");
            Assert.Equal(409, (await node.PostJson("v1/connectors", config)).Status);
            Assert.Equal(Enumerable.Range(1, 50).Sum(), await Total(node, 50));

            var (_, status) = await node.GetJson("v1/connectors/cards/status");
            Assert.Equal("RUNNING", status.GetProperty("state").GetString());
            Assert.Equal(3, status.GetProperty("deadLetters").GetInt64());
            var stream = status.GetProperty("streams")[0];
            Assert.Equal("file:cards", stream.GetProperty("stream").GetString());
            Assert.Equal(53, stream.GetProperty("read").GetInt64());
            var (_, letters) = await node.GetJson("v1/connectors/cards/dead-letters");
            Assert.Contains(letters.EnumerateArray(), d => d.GetProperty("offset").GetInt64() == 51 && d.GetProperty("reason").GetString()!.StartsWith("not JSON"));
            Assert.Contains(letters.EnumerateArray(), d => d.GetProperty("offset").GetInt64() == 52 && d.GetProperty("reason").GetString() == "the record has no id field 'id'");
            Assert.Contains(letters.EnumerateArray(), d => d.GetProperty("offset").GetInt64() == 53 &&
                d.GetProperty("reason").GetString()!.StartsWith("data.amount: 1e300 is outside the numeric range"));

            // Paused, the connector reads nothing new; resumed, it catches up. A running witness connector, given a line after
            // the paused one's, shows when a poll has come since: the paused connector's lines must still be unread then.
            var witness = Path.Combine(Path.GetDirectoryName(_file)!, "witness.jsonl");
            await File.WriteAllTextAsync(witness, "");
            var (witnessCreated, witnessBody, _) = await node.PostJson("v1/connectors", JsonSerializer.Serialize(new
            {
                name = "witness",
                config = new { type = "jsonl", path = witness, entityType = "card_tx", idField = "id" },
            }));
            Assert.True(witnessCreated == 201, $"{witnessCreated} {witnessBody}");
            Assert.Equal(202, (int)(await node.Http.PutAsync("v1/connectors/cards/pause", null)).StatusCode);
            await File.AppendAllLinesAsync(_file, Enumerable.Range(51, 10).Select(i => Tx(i, 1000)));
            await File.AppendAllLinesAsync(witness, [JsonSerializer.Serialize(new { id = "w1", card_id = "c1", merchant_id = "witness", amount = 1 })]);
            var (_, seen) = await node.GetJson("v1/views/merchant_totals/witness?after=file:witness@1&timeout=30s");
            Assert.Equal(1, seen.GetProperty("values").GetProperty("n").GetInt64());
            Assert.Equal(Enumerable.Range(1, 50).Sum(), await Total(node, 50));
            Assert.Equal("PAUSED", (await node.GetJson("v1/connectors/cards/status")).Body.GetProperty("state").GetString());
            Assert.Equal(202, (int)(await node.Http.PutAsync("v1/connectors/cards/resume", null)).StatusCode);
            Assert.Equal(Enumerable.Range(1, 50).Sum() + 10_000, await Total(node, 60));
            await node.KillAsync();
        }

        await File.AppendAllLinesAsync(_file, Enumerable.Range(61, 20).Select(i => Tx(i, 1)));
        await using (var node = await NodeProcess.StartReadyAsync(Environment))
        {
            // The connector survived the restart and resumed after the committed line.
            Assert.Equal(Enumerable.Range(1, 50).Sum() + 10_000 + 20, await Total(node, 80));
            Assert.Equal(3, (await node.GetJson("v1/connectors/cards/status")).Body.GetProperty("deadLetters").GetInt64());
            var deleted = await node.Http.DeleteAsync("v1/connectors/cards");
            Assert.Equal(204, (int)deleted.StatusCode);
            Assert.Equal(404, (await node.GetJson("v1/connectors/cards/status")).Status);
        }
    }

    [Fact]
    public async Task a_bad_connector_config_is_refused_naming_the_field()
    {
        await using var node = await NodeProcess.StartReadyAsync(Environment);
        var cases = new (object Body, string Detail)[]
        {
            (new { name = "x", config = new { type = "nosuch" } }, "config.type 'nosuch' is not a connector type"),
            (new { name = "x", config = new { type = "jsonl", entityType = "card_tx", idField = "id" } }, "config.path is required"),
            (new { name = "x", config = new { type = "kafka", topic = "t", idField = "id" } }, "config.entityType is required"),
            (new { name = "x", config = new { type = "jsonl", path = "/tmp/x", entityType = "card_tx", idField = "id", batch = 0 } }, "config.batch must be a whole number"),
            (new { name = "bad name", config = new { type = "jsonl" } }, "name 'bad name'"),
        };
        foreach (var (body, detail) in cases)
        {
            var (status, problem, _) = await node.PostJson("v1/connectors", JsonSerializer.Serialize(body));
            Assert.Equal(400, status);
            Assert.Contains(detail, problem.GetProperty("detail").GetString());
        }
        Assert.Equal(404, (int)(await node.Http.PutAsync("v1/connectors/nosuch/pause", null)).StatusCode);
    }
}
