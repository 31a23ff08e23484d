// RESP and HTTP answer the same: over rounds of random writes (transfers among accounts, account upserts and
// deletes), at each round's epoch the same random keys, written or never written, are read through POST /v1/read
// pinned at that epoch and through MGET on a connection pinned at it (CONTEXTLAKE.AT). Every view key and entity has
// the same values in both, absent ones are nil over RESP exactly where HTTP says they do not exist, and the
// earlier rounds' epochs still read the same in both once later writes have landed.
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Resp;

public sealed class RespHttpAgreementSpec(SqliteNodeFixture fixture, ITestOutputHelper output) : IClassFixture<SqliteNodeFixture>
{
    private const int Rounds = 25;
    private const int Accounts = 30;
    private NodeProcess Node => fixture.Node;

    private sealed record Read(string RespKey, object HttpRead, bool IsEntity);

    [Fact]
    public async Task at_every_epoch_resp_mget_and_http_read_answer_the_same_values()
    {
        await Bank.WaitForViewsAsync(Node);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{Node.RespEndpoint},connectTimeout=10000");
        var db = redis.GetDatabase();
        var random = new Random(20261201);
        var epochs = new List<(long N, List<Read> Reads)>();
        var compared = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var events = new List<object>();
            for (var i = random.Next(1, 40); i > 0; i--)
            {
                var (from, to) = (random.Next(Accounts), random.Next(Accounts));
                events.Add(random.Next(6) switch
                {
                    0 => new { type = "account", id = $"g{from}", kind = "upsert", data = (object)new { owner = $"o{random.Next(5)}", balance = random.Next(-500, 500) / 4m } },
                    1 => new { type = "account", id = $"g{from}", kind = "delete", data = (object)new { } },
                    _ => new { type = "transfer", id = Guid.NewGuid().ToString("N"), kind = "event", data = (object)new { from_account = $"g{from}", to_account = $"g{to}", amount = random.Next(1, 10_000) / 100m } },
                });
            }
            var (status, written, _) = await Node.PostJson("v1/events", NodeClient.Events(events.ToArray()));
            Assert.True(status == 200, $"round {round}: write answered {status}: {written}");
            var (_, epoch) = await Node.GetJson($"v1/epoch?after=http:writes@{written.GetProperty("last").GetInt64()}");
            var n = epoch.GetProperty("n").GetInt64();

            // Random keys, some of accounts never written (g30..g39).
            var reads = new List<Read>();
            for (var i = 0; i < 20; i++)
            {
                var account = $"g{random.Next(Accounts + 10)}";
                reads.Add(random.Next(3) switch
                {
                    0 => new Read($"view:credits:{account}", new { view = "credits", key = account }, false),
                    1 => new Read($"view:debits:{account}", new { view = "debits", key = account }, false),
                    _ => new Read($"entity:account:{account}", new { entity = $"account/{account}" }, true),
                });
            }
            epochs.Add((n, reads));
            compared += await Compare(db, n, reads, $"round {round}");
        }

        // The history still answers the earlier epochs the same way (within Epochs:History).
        foreach (var (n, reads) in epochs.TakeLast(5)) compared += await Compare(db, n, reads, $"epoch {n} again");
        output.WriteLine($"{compared} keys compared over {epochs.Count + 5} epoch reads");
    }

    private async Task<int> Compare(IDatabase db, long n, List<Read> reads, string where)
    {
        var (status, http, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new { reads = reads.Select(r => r.HttpRead).ToArray(), epoch = n }));
        Assert.True(status == 200, $"{where}: HTTP read at epoch {n} answered {status}: {http}");
        Assert.Equal(n, http.GetProperty("epoch").GetProperty("n").GetInt64());
        Assert.Equal("OK", (await db.ExecuteAsync("CONTEXTLAKE.AT", n)).ToString());
        var values = await db.StringGetAsync(reads.Select(r => (RedisKey)r.RespKey).ToArray());
        using (var epoch = JsonDocument.Parse((await db.ExecuteAsync("CONTEXTLAKE.EPOCH")).ToString()))
            Assert.Equal(n, epoch.RootElement.GetProperty("n").GetInt64());

        var results = http.GetProperty("results");
        for (var i = 0; i < reads.Count; i++)
        {
            var r = results[i];
            var (exists, expected) = reads[i].IsEntity
                ? (r.GetProperty("exists").GetBoolean(), r.GetProperty("state"))
                : (r.GetProperty("values").GetProperty("n").GetInt64() > 0, r.GetProperty("values")); // transfers are never retracted: a key exists once counted
            if (!exists)
            {
                Assert.True(values[i].IsNull, $"{where}: {reads[i].RespKey} does not exist over HTTP ({r}) but RESP answered {values[i]}");
                continue;
            }
            Assert.False(values[i].IsNull, $"{where}: {reads[i].RespKey} exists over HTTP ({expected}) but RESP answered nil");
            using var doc = JsonDocument.Parse(values[i].ToString());
            Assert.True(JsonElement.DeepEquals(expected, doc.RootElement), $"{where}: {reads[i].RespKey}: HTTP {expected}, RESP {values[i]}");
        }
        return reads.Count;
    }
}
