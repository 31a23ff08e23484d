// The count of HTTP write streams is fixed for a journal's life, as the partition count is: a node configured with
// another ContextLake:Writes:Streams than the journal recorded on its first start (1 on SQLite, 8 on PostgreSQL by
// default) refuses to start (exit code 2, a bad-configuration message naming the setting and both counts), because a
// retried batch would go to a stream that never saw its idempotency keys; the refusal changes nothing, and a node
// started with the recorded count, or none, still deduplicates a batch written before.
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Writes;

public abstract class WriteStreamCountSpec(JournalProvider provider) : JournalLifetime(provider)
{
    [Fact]
    public async Task changing_writes_streams_against_an_existing_journal_is_a_startup_error_naming_the_setting()
    {
        var recorded = WriteLogOptions.DefaultStreams(Provider);
        var other = recorded + 3;
        var batch = NodeClient.Events(new { type = "account", id = "ws1", kind = "upsert", key = "open-ws1", data = new { balance = 5 } });
        string stream;
        await using (var first = await NodeProcess.StartReadyAsync(Journal.Environment))
        {
            var (status, body, _) = await first.PostJson("v1/events", batch);
            Assert.True(status == 200, $"{status} {body}");
            stream = body.GetProperty("stream").GetString()!;
            Assert.Matches(recorded == 1 ? "^http:writes$" : @"^http:writes/\d+$", stream);
            await first.KillAsync();
        }

        await using (var refused = NodeProcess.Start(new Dictionary<string, string>(Journal.Environment) { ["ContextLake__Writes__Streams"] = $"{other}" }))
        {
            int code;
            try
            {
                code = await refused.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"a node configured with {other} write streams kept running on a journal of {recorded} for 60 s:\n{refused.Output}");
            }
            Assert.True(code == 2, $"the node exited with {code}:\n{refused.Output}");
            Assert.Contains("bad configuration", refused.Output);
            Assert.Contains("ContextLake:Writes:Streams", refused.Output);
            Assert.Contains($"created with {recorded} write streams", refused.Output);
            Assert.Contains($"configured with {other}", refused.Output);
        }

        foreach (var setting in new[] { $"{recorded}", "0" })
        {
            await using var again = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment) { ["ContextLake__Writes__Streams"] = setting });
            var (status, body, _) = await again.PostJson("v1/events", batch);
            Assert.True(status == 200, $"{status} {body}");
            Assert.Equal(stream, body.GetProperty("stream").GetString());
            Assert.Equal(0, body.GetProperty("written").GetInt32());
            Assert.Equal(1, body.GetProperty("first").GetInt64());
            await again.KillAsync();
        }
    }
}

public sealed class SqliteWriteStreamCountSpec() : WriteStreamCountSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlWriteStreamCountSpec() : WriteStreamCountSpec(JournalProvider.PostgreSql);
