// The numeric model as a user meets it: a number outside the decimal range is refused at the edge, naming
// the field, and nothing of its batch is journaled; amounts inside the range whose sum leaves it are
// accepted, and the view key answers a problem naming the view, key and column (never a wrong total)
// while every other key, and the node, go on answering; once later amounts bring the exact total back into
// range, the key answers it.
using System.Text.Json;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests;

public sealed class NumericRangeSpec(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private NodeProcess Node => fixture.Node;

    private static object Transfer(string id, string to, object amount) =>
        new { type = "transfer", id, data = new Dictionary<string, object> { ["from_account"] = "src", ["to_account"] = to, ["amount"] = amount } };

    [Theory]
    [InlineData("1e300")]
    [InlineData("-79228162514264337593543950336")]
    [InlineData("123456789012345678901234567890123")]
    public async Task an_amount_outside_the_decimal_range_is_refused_naming_the_field_and_nothing_of_its_batch_is_journaled(string amount)
    {
        await Epochs.Bank.WaitForViewsAsync(Node, "credits");
        var to = $"range-{Guid.NewGuid():N}";
        var body = NodeClient.Events(Transfer($"ok-{to}", to, 5)).Replace("]}", "," +
            $$$"""{"type": "transfer", "id": "bad-{{{to}}}", "data": {"from_account": "src", "to_account": "{{{to}}}", "amount": {{{amount}}}}}]}""");
        var (status, problem, _) = await Node.PostJson("v1/events", body);
        Assert.Equal(400, status);
        Assert.Contains($"events[1].data.amount: {amount} is outside the numeric range", problem.GetProperty("detail").GetString());

        // A later write to another key commits; the refused batch's first event is not there.
        var (okStatus, ok, _) = await Node.PostJson("v1/events", NodeClient.Events(Transfer($"later-{to}", "elsewhere", 1)));
        Assert.Equal(200, okStatus);
        var (_, read) = await Node.GetJson($"v1/views/credits/{to}?after=http:writes@{ok.GetProperty("last").GetInt64()}&timeout=30s");
        Assert.Equal(0, read.GetProperty("values").GetProperty("n").GetInt64());
    }

    [Fact]
    public async Task a_sum_that_leaves_the_range_answers_a_problem_naming_view_key_and_column_and_other_keys_still_answer()
    {
        await Epochs.Bank.WaitForViewsAsync(Node, "credits");
        var to = $"ovf-{Guid.NewGuid():N}";
        var big = 70_000_000_000_000_000_000_000_000_000m;
        var (status, written, _) = await Node.PostJson("v1/events", NodeClient.Events(Transfer($"{to}-1", to, big), Transfer($"{to}-2", to, big),
            Transfer($"{to}-3", "fine-" + to, 12.5m)));
        Assert.Equal(200, status);
        var after = $"after=http:writes@{written.GetProperty("last").GetInt64()}&timeout=30s";

        var (overflowStatus, problem) = await Node.GetJson($"v1/views/credits/{to}?{after}");
        Assert.Equal(422, overflowStatus);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("credits", detail);
        Assert.Contains($"key {to}", detail);
        Assert.Contains("SUM AS total overflowed", detail);

        var (fineStatus, fine) = await Node.GetJson($"v1/views/credits/fine-{to}?{after}");
        Assert.Equal(200, fineStatus);
        Assert.Equal(12.5m, fine.GetProperty("values").GetProperty("total").GetDecimal());

        // The partition holding the key did not fail: later writes to it commit and read back.
        var (laterStatus, later, _) = await Node.PostJson("v1/events", NodeClient.Events(Transfer($"{to}-4", "fine-" + to, 1)));
        Assert.Equal(200, laterStatus);
        var (_, again) = await Node.GetJson($"v1/views/credits/fine-{to}?after=http:writes@{later.GetProperty("last").GetInt64()}&timeout=30s");
        Assert.Equal(13.5m, again.GetProperty("values").GetProperty("total").GetDecimal());
        var (ready, _) = await Node.GetJson("readyz");
        Assert.Equal(200, ready);

        // Totals are exact: a later retraction-like term that brings the total back into range makes it answer again.
        var (backStatus, back, _) = await Node.PostJson("v1/events", NodeClient.Events(Transfer($"{to}-5", to, -big)));
        Assert.Equal(200, backStatus);
        var (inRange, total) = await Node.GetJson($"v1/views/credits/{to}?after=http:writes@{back.GetProperty("last").GetInt64()}&timeout=30s");
        Assert.True(inRange == 200, $"{inRange} {total}");
        Assert.Equal(big, total.GetProperty("values").GetProperty("total").GetDecimal());
        Assert.Equal(3, total.GetProperty("values").GetProperty("n").GetInt64());
    }
}
