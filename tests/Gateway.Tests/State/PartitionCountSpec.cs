// The partition count is fixed for a journal's life: a node started with ContextLake:State:Partitions = 8
// against a journal first written with the provider's default (4 on SQLite, 16 on PostgreSQL) refuses to
// start (exit code 2, a bad-configuration message naming the setting and both counts), and the refusal
// changes nothing: started again with the recorded count, or with none set, the node serves what was
// written before.
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.State;

public abstract class PartitionCountSpec(JournalProvider provider) : JournalLifetime(provider)
{
    [Fact]
    public async Task changing_state_partitions_against_an_existing_journal_is_a_startup_error_naming_the_setting()
    {
        await using (var first = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            var (status, body, _) = await first.PostJson("v1/events", NodeClient.Events(new { type = "account", id = "acc1", kind = "upsert", data = new { owner = "o1", balance = 5 } }));
            Assert.True(status == 200, $"{status} {body}");
            Assert.True((await first.Entity("account", "acc1", after: NodeClient.Position(body))).GetProperty("exists").GetBoolean());
            await first.KillAsync();
        }

        await using (var refused = NodeProcess.Start(new Dictionary<string, string>(Journal.Environment) { ["ContextLake__State__Partitions"] = "8" }))
        {
            int code;
            try
            {
                code = await refused.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"a node configured with 8 partitions kept running on a journal of {StateOptions.DefaultPartitions(Provider)} for 60 s:\n{refused.Output}");
            }
            Assert.True(code == 2, $"the node exited with {code}:\n{refused.Output}");
            Assert.Contains("bad configuration", refused.Output);
            Assert.Contains("ContextLake:State:Partitions", refused.Output);
            Assert.Contains($"created with {StateOptions.DefaultPartitions(Provider)} partitions", refused.Output);
            Assert.Contains("configured with 8", refused.Output);
        }

        var recorded = $"{StateOptions.DefaultPartitions(Provider)}";
        foreach (var setting in new[] { recorded, "0" })
        {
            await using var again = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment) { ["ContextLake__State__Partitions"] = setting });
            var entity = await again.Entity("account", "acc1");
            Assert.True(entity.GetProperty("exists").GetBoolean(), $"after the refused start the entity is gone (State:Partitions = {setting}): {entity}");
            Assert.Equal(5, entity.GetProperty("state").GetProperty("balance").GetInt32());
            await again.KillAsync();
        }
    }
}

public sealed class SqlitePartitionCountSpec() : PartitionCountSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlPartitionCountSpec() : PartitionCountSpec(JournalProvider.PostgreSql);
