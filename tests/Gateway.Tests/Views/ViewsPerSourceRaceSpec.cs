// Limits:MaxViewsPerSource holds against creates that race: the HTTP check counts the views this node has heard of,
// which lags the catalog, so the view catalog (where creates are ordered) refuses whatever gets past it. The sample
// domain already has two views on transfer (credits, debits); with a limit of 3, of six concurrent creates on transfer
// exactly one is created and the others answer 400 naming the setting.
using System.Text.Json;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Views;

public sealed class ThreeViewsPerSourceNode : SqliteNodeLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ContextLake__Limits__MaxViewsPerSource"] = "3",
    };
}

public sealed class ViewsPerSourceRaceSpec(ThreeViewsPerSourceNode fixture) : IClassFixture<ThreeViewsPerSourceNode>
{
    [Fact]
    public async Task concurrent_creates_past_the_limit_on_one_source_are_refused_by_the_catalog()
    {
        var node = fixture.Node;
        await Epochs.Bank.WaitForViewsAsync(node, "credits", "debits");
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = $"CREATE VIEW race_{i} AS SELECT to_account, COUNT(*) AS n FROM transfer GROUP BY to_account",
        }))));

        Assert.Single(answers, a => a.Status is 201 or 202);
        foreach (var refused in answers.Where(a => a.Status is not (201 or 202)))
        {
            Assert.Equal(400, refused.Status);
            Assert.Contains("3 views already read 'transfer'; at most 3 may (setting ContextLake:Limits:MaxViewsPerSource)",
                refused.Body.GetProperty("detail").GetString());
        }
        var (_, views) = await node.GetJson("v1/views");
        Assert.Equal(3, views.EnumerateArray().Count(v => v.GetProperty("source").GetString() == "transfer"));
    }
}
