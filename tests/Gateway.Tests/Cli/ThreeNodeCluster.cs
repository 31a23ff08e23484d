// Three node processes on one fresh PostgreSQL journal forming one cluster (a NodeCluster), the admin token set
// on every node, and the membership as the admin API shows it.
using System.Text.Json;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Cli;

public sealed class ThreeNodeCluster : IAsyncLifetime
{
    public const string Token = "ops-spec-token-0123456789";

    private PostgresTestJournal _journal = null!;
    private NodeCluster? _cluster;

    public NodeProcess[] Nodes { get; private set; } = [];

    /// <summary>Each node's Akka address, as members are listed (akka.tcp://contextlake@127.0.0.1:PORT).</summary>
    public string[] Addresses { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _journal = PostgresTestJournal.Create();
        _cluster = await NodeCluster.StartAsync(3, new Dictionary<string, string>(_journal.Environment)
        {
            ["ContextLake__Admin__Token"] = Token,
        });
        Nodes = Enumerable.Range(0, _cluster.Size).Select(i => _cluster[i]).ToArray();
        Addresses = _cluster.SeedNodes.ToArray();
        await WaitForMembersAsync(Nodes[0], members => members.Count == 3 && members.All(m => m.Status == "Up"), "three members Up");
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        await _journal.DisposeAsync();
    }

    public sealed record MemberView(string Address, string Status, string Reachability);

    /// <summary>The members as <paramref name="node"/> sees them, straight from its admin API.</summary>
    public static async Task<IReadOnlyList<MemberView>> MembersAsync(NodeProcess node)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/cluster/members");
        request.Headers.Authorization = new("Bearer", Token);
        using var response = await node.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return json.GetProperty("members").EnumerateArray().Select(m => new MemberView(
            m.GetProperty("address").GetString()!, m.GetProperty("status").GetString()!, m.GetProperty("reachability").GetString()!)).ToList();
    }

    /// <summary>Waits (bounded) until the membership seen by <paramref name="node"/> satisfies <paramref name="condition"/>.</summary>
    public static async Task WaitForMembersAsync(NodeProcess node, Func<IReadOnlyList<MemberView>, bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        IReadOnlyList<MemberView> members = [];
        while (DateTime.UtcNow < deadline)
        {
            members = await MembersAsync(node);
            if (condition(members)) return;
            await Task.Delay(250);
        }
        throw new TimeoutException($"not {what} within {seconds} s; members: {string.Join("; ", members)}");
    }
}
