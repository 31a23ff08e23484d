// The bank invariant read through the Redis protocol: writers move money among accounts over HTTP while readers,
// each its own StackExchange.Redis connection, MGET every account's credits and debits. Every answer balances to
// zero (one MGET is one epoch), the epoch each reader sees (CONTEXTLAKE.EPOCH after its MGET) never goes back, and
// at the end RESP and HTTP count the same transfers.
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Resp;

public sealed class RespBankSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.Sqlite)
{
    private static readonly RedisKey[] AllAccounts = Enumerable.Range(0, Bank.Accounts)
        .SelectMany(a => new RedisKey[] { $"view:credits:a{a}", $"view:debits:a{a}" }).ToArray();

    [Fact]
    public async Task every_mget_of_all_credits_and_debits_balances_and_epochs_never_go_back()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment);
        await Bank.WaitForViewsAsync(node);
        var writersDone = false;
        var writing = Bank.WriteAsync(node, seed: 100);

        var reads = 0L;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync($"{node.RespEndpoint},connectTimeout=10000");
            var db = redis.GetDatabase();
            long lastEpoch = -1;
            var mine = 0;
            while (!Volatile.Read(ref writersDone) || mine < 700)
            {
                var values = await db.StringGetAsync(AllAccounts);
                var n = EpochOf(await db.ExecuteAsync("CONTEXTLAKE.EPOCH"));
                Assert.True(n >= lastEpoch, $"epoch went backward: {lastEpoch} then {n}");
                lastEpoch = n;
                Assert.Equal(0m, Balance(values));
                mine++;
                Interlocked.Increment(ref reads);
            }
        })).ToList();

        var (written, positions) = await writing;
        Volatile.Write(ref writersDone, true);
        await Task.WhenAll(readers);

        // Read-your-writes on the connection: after the last acknowledged offset, every transfer is counted once.
        await using var final = await ConnectionMultiplexer.ConnectAsync($"{node.RespEndpoint},connectTimeout=10000");
        var fdb = final.GetDatabase();
        await fdb.ExecuteAsync("CONTEXTLAKE.AFTER", positions.After.Single());
        var credits = await fdb.StringGetAsync(Enumerable.Range(0, Bank.Accounts).Select(a => (RedisKey)$"view:credits:a{a}").ToArray());
        Assert.Equal(written, (long)credits.Sum(v => v.IsNull ? 0 : Field(v, "n")));
        output.WriteLine($"{reads} balanced RESP reads while {written} transfers were written");
        Assert.True(reads >= 2000);
    }

    private static long EpochOf(RedisResult epoch)
    {
        using var doc = JsonDocument.Parse(epoch.ToString());
        return doc.RootElement.GetProperty("n").GetInt64();
    }

    private static decimal Balance(RedisValue[] values)
    {
        var balance = 0m;
        for (var i = 0; i < values.Length; i++)
            if (!values[i].IsNull) balance += (i % 2 == 0 ? 1 : -1) * Field(values[i], "total");
        return balance;
    }

    private static decimal Field(RedisValue value, string field)
    {
        using var doc = JsonDocument.Parse(value.ToString());
        return doc.RootElement.GetProperty(field).GetDecimal();
    }
}
