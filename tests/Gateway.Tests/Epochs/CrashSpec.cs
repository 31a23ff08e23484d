// kill -9 in the middle of a write load, then a restart and the clients' retries (same idempotency
// keys): every transfer is counted exactly once, views equal the oracle computed from what the
// clients sent, and epoch numbers continue from where they were.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Epochs;

public abstract class CrashSpec(JournalProvider provider, ITestOutputHelper output) : JournalLifetime(provider)
{
    private sealed record Transfer(string Key, string From, string To, int Amount);

    [Fact]
    public async Task after_a_kill_during_load_and_the_clients_retries_views_equal_the_oracle_and_epochs_continue()
    {
        var random = new Random(42);
        var batches = Enumerable.Range(0, 120).Select(b => Enumerable.Range(0, 1 + random.Next(3)).Select(i =>
        {
            var from = random.Next(Bank.Accounts);
            var to = (from + 1 + random.Next(Bank.Accounts - 1)) % Bank.Accounts;
            return new Transfer($"b{b}-e{i}", $"a{from}", $"a{to}", random.Next(1, 1000));
        }).ToList()).ToList();

        static string Body(IEnumerable<Transfer> batch) => NodeClient.Events(batch.Select(t => (object)new
        {
            type = "transfer", id = t.Key, key = t.Key, data = new { from_account = t.From, to_account = t.To, amount = t.Amount },
        }).ToArray());

        long epochBeforeKill;
        var acknowledged = 0;
        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            await Bank.WaitForViewsAsync(node);
            var next = -1;
            var writers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < batches.Count)
                {
                    try
                    {
                        var (status, _, _) = await node.PostJson("v1/events", Body(batches[b]));
                        if (status == 200) Interlocked.Increment(ref acknowledged);
                    }
                    catch (HttpRequestException)
                    {
                        return;
                    }
                }
            })).ToList();

            while (Volatile.Read(ref acknowledged) < 40) await Task.Delay(5);
            var (_, epoch) = await node.GetJson("v1/epoch");
            epochBeforeKill = epoch.GetProperty("n").GetInt64();
            await node.KillAsync();
            await Task.WhenAll(writers);
        }
        output.WriteLine($"{acknowledged} of {batches.Count} batches acknowledged before the kill at epoch {epochBeforeKill}");
        Assert.True(acknowledged < batches.Count, "the kill came after the whole load; nothing was in flight");

        await using (var node = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            await Bank.WaitForViewsAsync(node);
            var (_, restarted) = await node.GetJson("v1/epoch");
            Assert.True(restarted.GetProperty("n").GetInt64() >= epochBeforeKill, $"epoch went back to {restarted} from {epochBeforeKill}");

            var written = new NodeClient.Written();
            foreach (var batch in batches)
            {
                var (status, body, _) = await node.PostJson("v1/events", Body(batch));
                Assert.True(status == 200, $"retry answered {status}: {body}");
                written.Add(body);
            }

            // Each write stream's offsets are gap-free: together they end at as many transfers as the clients sent, none twice.
            var all = batches.SelectMany(b => b).ToList();
            Assert.Equal(all.Count, written.Total);
            var (readStatus, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
            {
                reads = Enumerable.Range(0, Bank.Accounts).SelectMany(a => new object[]
                {
                    new { view = "credits", key = $"a{a}" }, new { view = "debits", key = $"a{a}" },
                }).ToArray(),
                after = written.After,
            }));
            Assert.Equal(200, readStatus);
            Assert.True(answer.GetProperty("epoch").GetProperty("n").GetInt64() > epochBeforeKill);
            foreach (var r in answer.GetProperty("results").EnumerateArray())
            {
                var key = r.GetProperty("key").GetString();
                var credits = r.GetProperty("view").GetString() == "credits";
                var mine = all.Where(t => (credits ? t.To : t.From) == key).ToList();
                Assert.Equal(mine.Count, r.GetProperty("values").GetProperty("n").GetInt64());
                Assert.Equal(mine.Sum(t => t.Amount), r.GetProperty("values").GetProperty("total").GetDecimal());
            }
        }
    }
}

public sealed class SqliteCrashSpec(ITestOutputHelper output) : CrashSpec(JournalProvider.Sqlite, output);

public sealed class PostgreSqlCrashSpec(ITestOutputHelper output) : CrashSpec(JournalProvider.PostgreSql, output);
