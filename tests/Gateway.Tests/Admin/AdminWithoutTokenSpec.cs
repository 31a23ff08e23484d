// A node without ContextLake:Admin:Token still serves /admin/… to callers on its own machine (loopback),
// and the contextlake tool works against it without a token.
using System.Text.Json;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Admin;

public sealed class AdminWithoutTokenSpec : SqliteNodeLifetime
{
    [Fact]
    public async Task a_loopback_caller_without_a_token_may_use_the_admin_api_when_no_token_is_configured()
    {
        var (status, body) = await Node.GetJson("admin/cluster/members");
        Assert.Equal(200, status);
        var self = body.GetProperty("self").GetString();
        Assert.Equal(self, Assert.Single(body.GetProperty("members").EnumerateArray()).GetProperty("address").GetString());

        var (code, output, error) = await ToolProcess.RunAsync(
            new Dictionary<string, string?> { ["CONTEXTLAKE_URL"] = Node.BaseAddress.ToString() }, "sharding", "regions", "--json");
        Assert.True(code == 0, error);
        var types = JsonDocument.Parse(output).RootElement.EnumerateArray().Select(r => r.GetProperty("type").GetString()).ToList();
        Assert.Equal(["entity", "vector", "view", "writes"], types);
    }
}
