// How a read chooses its epoch: read-your-writes with after=, as-of reads with epoch=N (waited for when
// newer than the latest; older than the history, answered from the journal, 410 once Epochs:Retention has
// removed the epoch's record), 504 when a position is not committed in time,
// stale-ok with its age; and reads that name something wrong get a 4xx naming it.
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Epochs;

public sealed class ReadPointSpecs : SqliteNodeLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string>
        {
            ["ContextLake__Epochs__History"] = "00:00:02",
            ["ContextLake__Epochs__Retention"] = "00:00:06",
            ["ContextLake__Epochs__SnapshotEvery"] = "5",
        };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Bank.WaitForViewsAsync(Node, "credits", "card_velocity");
    }

    private async Task<long> Write(string to, int amount)
    {
        var (status, body, _) = await Node.PostJson("v1/events", NodeClient.Events(
            new { type = "transfer", id = Guid.NewGuid().ToString("N"), data = new { from_account = "x", to_account = to, amount } }));
        Assert.Equal(200, status);
        return body.GetProperty("last").GetInt64();
    }

    [Fact]
    public async Task a_write_passed_as_after_is_visible_in_the_next_read()
    {
        for (var i = 1; i <= 20; i++)
        {
            var offset = await Write("ryw", 1);
            var (status, read) = await Node.GetJson($"v1/views/credits/ryw?after=http:writes@{offset}");
            Assert.Equal(200, status);
            Assert.Equal(i, read.GetProperty("values").GetProperty("n").GetInt64());
            Assert.True(read.GetProperty("epoch").GetProperty("vector").GetProperty("http:writes").GetInt64() >= offset);
        }
    }

    [Fact]
    public async Task the_epoch_endpoint_long_polls_until_after_is_committed()
    {
        var offset = await Write("poll", 1);
        var (status, epoch) = await Node.GetJson($"v1/epoch?after=http:writes@{offset}&timeout=10s");
        Assert.Equal(200, status);
        Assert.True(epoch.GetProperty("vector").GetProperty("http:writes").GetInt64() >= offset);

        var (pending, problem) = await Node.GetJson($"v1/epoch?after=http:writes@{offset + 1_000_000}&timeout=300ms");
        Assert.Equal(504, pending);
        Assert.Contains("timeout", problem.GetProperty("detail").GetString());
        var (bad, _) = await Node.GetJson("v1/epoch?after=nonsense");
        Assert.Equal(400, bad);
    }

    [Fact]
    public async Task an_epoch_number_reads_the_past_from_memory_then_from_the_journal_until_its_retention()
    {
        var first = await Write("asof", 10);
        var (_, before) = await Node.GetJson($"v1/views/credits/asof?after=http:writes@{first}");
        var epoch = before.GetProperty("epoch").GetProperty("n").GetInt64();
        var last = await Write("asof", 5);
        await Node.GetJson($"v1/views/credits/asof?after=http:writes@{last}");

        var (status, past) = await Node.GetJson($"v1/views/credits/asof?epoch={epoch}");
        Assert.Equal(200, status);
        Assert.Equal(10m, past.GetProperty("values").GetProperty("total").GetDecimal());
        Assert.False(past.GetProperty("epoch").TryGetProperty("served", out _), $"read from memory, yet: {past}");
        var (_, now) = await Node.GetJson("v1/views/credits/asof");
        Assert.Equal(15m, now.GetProperty("values").GetProperty("total").GetDecimal());

        // An epoch this node has not seen is waited for (another node may have answered with it), then 504.
        var (newer, problem) = await Node.GetJson($"v1/views/credits/asof?epoch={epoch + 1_000_000}&timeout=300ms");
        Assert.Equal(504, newer);
        Assert.Contains("newer than the latest committed epoch", problem.GetProperty("detail").GetString());

        // History is 2 s here: keep epochs moving until the old one falls out of it; the journal answers it then, the same.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonElement journaled;
        do
        {
            await Write("other", 1);
            await Task.Delay(200);
            (status, journaled) = await Node.GetJson($"v1/views/credits/asof?epoch={epoch}");
            Assert.Equal(200, status);
        } while (!journaled.GetProperty("epoch").TryGetProperty("served", out _) && DateTime.UtcNow < deadline);
        Assert.Equal("journal", journaled.GetProperty("epoch").GetProperty("served").GetString());
        Assert.Equal(epoch, journaled.GetProperty("epoch").GetProperty("n").GetInt64());
        Assert.Equal(past.GetProperty("epoch").GetProperty("vector").GetRawText(), journaled.GetProperty("epoch").GetProperty("vector").GetRawText());
        Assert.Equal(past.GetProperty("values").GetRawText(), journaled.GetProperty("values").GetRawText());
        var (_, entity) = await Node.GetJson($"v1/entities/transfer/none?epoch={epoch}");
        Assert.Equal("journal", entity.GetProperty("epoch").GetProperty("served").GetString());

        // Retention is 6 s and the coordinator sweeps after every 5 epochs: the epoch's record goes, and the read is a 410.
        deadline = DateTime.UtcNow.AddSeconds(30);
        int gone;
        do
        {
            await Write("other", 1);
            await Task.Delay(200);
            (gone, problem) = await Node.GetJson($"v1/views/credits/asof?epoch={epoch}");
        } while (gone == 200 && DateTime.UtcNow < deadline);
        Assert.Equal(410, gone);
        Assert.Contains($"epoch {epoch} is older than what the journal keeps (setting ContextLake:Epochs:Retention", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_position_not_committed_in_time_answers_504_and_stale_ok_never_waits()
    {
        var (status, problem) = await Node.GetJson("v1/views/credits/a1?after=http:writes@99999999&timeout=200ms");
        Assert.Equal(504, status);
        Assert.Contains("http:writes@99999999", problem.GetProperty("detail").GetString());

        var (stale, answer) = await Node.GetJson("v1/views/credits/a1?after=http:writes@99999999&consistency=stale-ok");
        Assert.Equal(200, stale);
        Assert.True(answer.GetProperty("epoch").GetProperty("ageMs").GetInt64() >= 0);
    }

    public static TheoryData<string, int, string> BadReads() => new()
    {
        { "v1/views/nosuch/k", 404, "there is no view named 'nosuch'" },
        { "v1/views/credits/a1?after=http:writes", 400, "after 'http:writes' is not a position" },
        { "v1/views/credits/a1?after=http:writes@x", 400, "after 'http:writes@x'" },
        { "v1/views/credits/a1?epoch=-3", 400, "epoch '-3' is not a non-negative integer" },
        { "v1/views/credits/a1?consistency=eventual", 400, "consistency 'eventual'" },
        { "v1/views/credits/a1?window=10m", 400, "view credits has no window" },
        { "v1/views/card_velocity/c1?window=7x", 400, "window '7x' is not a duration" },
        { "v1/views/card_velocity/c1?window=90s", 400, "multiple of" },
        { "v1/views/credits/a1?timeout=forever", 400, "timeout 'forever'" },
    };

    [Theory]
    [MemberData(nameof(BadReads))]
    public async Task a_bad_read_is_refused_naming_the_fault(string path, int status, string detail)
    {
        var (got, problem) = await Node.GetJson(path);
        Assert.Equal(status, got);
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_bad_decision_read_names_the_read_at_fault()
    {
        var (status, problem, _) = await Node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = new object[] { new { view = "credits", key = "a1" }, new { view = "nosuch", key = "a1" } },
        }));
        Assert.Equal(404, status);
        Assert.Contains("reads[1]", problem.GetProperty("detail").GetString());

        (status, problem, _) = await Node.PostJson("v1/read", """{"reads": [{"entity": "noslash"}]}""");
        Assert.Equal(400, status);
        Assert.Contains("reads[0].entity 'noslash' is not of the form type/id", problem.GetProperty("detail").GetString());
    }
}
