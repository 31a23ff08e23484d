// The bank invariant (the internal-consistency test run against Flink, ksqlDB and Materialize):
// concurrent writers move random amounts among a few accounts; concurrent readers read every account's
// credits and debits in one POST /v1/read. Every answer must balance to exactly zero, and epochs read
// by one reader never go backward; with HTTP writes spread over several write streams too.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Epochs;

public abstract class BankInvariantSpec(JournalProvider provider, ITestOutputHelper output, int writeStreams = 0) : JournalLifetime(provider)
{
    [Fact]
    public async Task every_decision_read_balances_to_zero_and_epochs_never_go_backward()
    {
        var environment = new Dictionary<string, string>(Journal.Environment);
        if (writeStreams > 0) environment["ContextLake__Writes__Streams"] = $"{writeStreams}";
        await using var node = await NodeProcess.StartReadyAsync(environment);
        await Bank.WaitForViewsAsync(node);
        var writersDone = false;
        var writing = Bank.WriteAsync(node, seed: 0);

        var reads = 0L;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            long lastEpoch = -1;
            var mine = 0;
            while (!Volatile.Read(ref writersDone) || mine < 700)
            {
                var (status, answer, _) = await node.PostJson("v1/read", Bank.ReadAllAccounts());
                Assert.True(status == 200, $"read answered {status}: {answer}");
                var n = answer.GetProperty("epoch").GetProperty("n").GetInt64();
                Assert.True(n >= lastEpoch, $"epoch went backward: {lastEpoch} then {n}");
                lastEpoch = n;
                Assert.Equal(0m, Bank.Balance(answer));
                mine++;
                Interlocked.Increment(ref reads);
            }
        })).ToList();

        var (written, positions) = await writing;
        Volatile.Write(ref writersDone, true);
        await Task.WhenAll(readers);

        // At the end every transfer is counted exactly once.
        var (_, final, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = Enumerable.Range(0, Bank.Accounts).Select(a => new { view = "credits", key = $"a{a}" }).ToArray(),
            after = positions.After,
        }));
        Assert.Equal(written, final.GetProperty("results").EnumerateArray().Sum(r => r.GetProperty("values").GetProperty("n").GetInt64()));
        output.WriteLine($"{reads} balanced reads while {written} transfers were written into {string.Join(", ", positions.After)}");
        if (writeStreams > 1) Assert.True(positions.After.Length > 1, $"every batch went to one stream: {string.Join(", ", positions.After)}");
        Assert.True(reads >= 2000);
    }
}

public sealed class SqliteBankInvariantSpec(ITestOutputHelper output) : BankInvariantSpec(JournalProvider.Sqlite, output);

public sealed class PostgreSqlBankInvariantSpec(ITestOutputHelper output) : BankInvariantSpec(JournalProvider.PostgreSql, output);

/// <summary>One SQLite node with four write streams (SQLite's default is one).</summary>
public sealed class SqliteWriteStreamsBankInvariantSpec(ITestOutputHelper output) : BankInvariantSpec(JournalProvider.Sqlite, output, writeStreams: 4);

/// <summary>The bank workload over the sample domain's credits and debits views.</summary>
public static class Bank
{
    public const int Accounts = 5;

    public static string ReadAllAccounts() => JsonSerializer.Serialize(new
    {
        reads = Enumerable.Range(0, Accounts).SelectMany(a => new object[]
        {
            new { view = "credits", key = $"a{a}" },
            new { view = "debits", key = $"a{a}" },
        }).ToArray(),
    });

    public static decimal Balance(JsonElement answer) =>
        answer.GetProperty("results").EnumerateArray()
            .Sum(r => (r.GetProperty("view").GetString() == "credits" ? 1 : -1) * r.GetProperty("values").GetProperty("total").GetDecimal());

    public static object Transfer(Random random, string? key = null)
    {
        var from = random.Next(Accounts);
        var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
        return new { type = "transfer", id = Guid.NewGuid().ToString("N"), key, data = new { from_account = $"a{from}", to_account = $"a{to}", amount = random.Next(1, 1000) } };
    }

    /// <summary>One transfer of <paramref name="amount"/> from the account "bank" to <paramref name="account"/>, acknowledged: its
    /// offset in http:writes (a node with one write stream).</summary>
    public static async Task<long> DepositAsync(ContextLake.Testing.NodeProcess node, string account, decimal amount) =>
        (await DepositAtAsync(node, account, amount)).GetProperty("last").GetInt64();

    /// <summary>As <see cref="DepositAsync"/>: the write's answer (its stream and offsets), for a node with any number of write streams.</summary>
    public static async Task<JsonElement> DepositAtAsync(ContextLake.Testing.NodeProcess node, string account, decimal amount)
    {
        var (status, body, _) = await node.PostJson("v1/events", NodeClient.Events(new
        {
            type = "transfer", id = Guid.NewGuid().ToString("N"), data = new { from_account = "bank", to_account = account, amount },
        }));
        Assert.True(status == 200, $"write answered {status}: {body}");
        return body;
    }

    /// <summary>
    /// Four writers, each 60 batches of 1 to 3 random transfers over HTTP (writer w seeded <paramref name="seed"/> + w),
    /// every batch acknowledged: how many transfers were written and the highest offset acknowledged in each write stream.
    /// </summary>
    public static async Task<(long Written, NodeClient.Written Positions)> WriteAsync(ContextLake.Testing.NodeProcess node, int seed)
    {
        var written = 0L;
        var positions = new NodeClient.Written();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            for (var b = 0; b < 60; b++)
            {
                var events = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Transfer(random)).ToArray();
                var (status, body, _) = await node.PostJson("v1/events", NodeClient.Events(events));
                Assert.True(status == 200, $"write answered {status}: {body}");
                Interlocked.Add(ref written, events.Length);
                positions.Add(body);
            }
        })));
        return (written, positions);
    }

    /// <summary>The configured views are created at startup; wait until both are readable.</summary>
    public static async Task WaitForViewsAsync(ContextLake.Testing.NodeProcess node, params string[] views)
    {
        views = views.Length == 0 ? ["credits", "debits"] : views;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var view in views)
        {
            while (true)
            {
                var (status, doc) = await node.GetJson($"v1/views/{view}");
                if (status == 200 && doc.GetProperty("readable").GetBoolean()) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"view {view} not readable: {status} {doc}");
                await Task.Delay(50);
            }
        }
    }
}
