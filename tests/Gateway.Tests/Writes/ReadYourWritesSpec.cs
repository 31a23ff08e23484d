// Read-your-writes on one node without `after`: a write answers once an epoch commits it and names that epoch, so a
// read sent right after its answer (at the latest epoch, the default) sees it, every time; `wait=applied` answers
// sooner, without an epoch; any other `wait` is refused naming it.
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Writes;

public sealed class ReadYourWritesSpec(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private const int Clients = 4, WritesPerClient = 250;

    [Fact]
    public async Task a_read_right_after_a_write_sees_it_a_thousand_times_out_of_a_thousand()
    {
        var node = fixture.Node;
        var run = Guid.NewGuid().ToString("N")[..8];
        var missed = 0;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            for (var i = 1; i <= WritesPerClient; i++)
            {
                var id = $"{run}-{c}-{i}";
                var (status, written, _) = await node.PostJson("v1/events", NodeClient.Events(
                    new { type = "account", id, kind = "upsert", data = new { owner = "ann", balance = i } }));
                Assert.Equal(200, status);
                var committedBy = written.GetProperty("epoch");
                Assert.True(committedBy.GetProperty("vector").GetProperty("http:writes").GetInt64() >= written.GetProperty("last").GetInt64());

                var (readStatus, read) = await node.GetJson($"v1/entities/account/{id}");
                Assert.Equal(200, readStatus);
                Assert.True(read.GetProperty("epoch").GetProperty("n").GetInt64() >= committedBy.GetProperty("n").GetInt64());
                if (!read.GetProperty("exists").GetBoolean() || read.GetProperty("state").GetProperty("balance").GetInt64() != i)
                    Interlocked.Increment(ref missed);
            }
        }));
        Assert.Equal(0, missed);
    }

    [Fact]
    public async Task wait_applied_answers_without_an_epoch_and_an_unknown_wait_is_refused_naming_it()
    {
        var node = fixture.Node;
        var events = NodeClient.Events(new { type = "account", id = Guid.NewGuid().ToString("N"), kind = "upsert", data = new { balance = 1 } });
        var (status, applied, _) = await node.PostJson("v1/events?wait=applied", events);
        Assert.Equal(200, status);
        Assert.False(applied.TryGetProperty("epoch", out _));
        Assert.Equal(1, applied.GetProperty("written").GetInt32());

        var (refused, problem, contentType) = await node.PostJson("v1/events?wait=soon", events);
        Assert.Equal(400, refused);
        Assert.Equal("application/problem+json", contentType);
        Assert.Contains("wait 'soon' is not one of committed", problem.GetProperty("detail").GetString());
    }
}
