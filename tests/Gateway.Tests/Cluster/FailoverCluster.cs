// Three node processes with the node's default cluster timings (nothing tuned) on one PostgreSQL journal, shared by the
// failover scenarios of one class so that each pays for a failover, not for a cluster's start; with the clients' record of
// every transfer any scenario had acknowledged, so that each can compare the whole journal with it. Before a scenario
// every node runs and every member is Up and reachable again, whatever the previous scenario left.
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Cluster;

public sealed class FailoverCluster : IAsyncLifetime
{
    private TestJournal? _journal;
    private MockKafkaCluster? _kafka;
    private NodeCluster? _cluster;

    public NodeCluster Nodes => _cluster ?? throw new InvalidOperationException("the cluster has not started");

    public BankLedger Ledger { get; } = new();

    public string ConnectionString => ((PostgresTestJournal)_journal!).ConnectionString;

    public async Task InitializeAsync()
    {
        _journal = TestJournal.Create(JournalProvider.PostgreSql);
        _kafka = new MockKafkaCluster();
        var environment = new Dictionary<string, string>(_journal.Environment)
        {
            ["ContextLake__ConnectorsFile"] = "",
            ["ContextLake__Kafka__BootstrapServers"] = _kafka.BootstrapServers,
        };
        _cluster = await NodeCluster.StartAsync(3, environment);
        for (var i = 0; i < _cluster.Size; i++) await Bank.WaitForViewsAsync(_cluster[i]);
    }

    /// <summary>Starts every node that is not running and waits until each sees three members Up and reachable.</summary>
    public async Task ReadyAsync()
    {
        for (var i = 0; i < Nodes.Size; i++)
            if (!Nodes.IsRunning(i))
                await Nodes.StartNodeAsync(i);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        for (var i = 0; i < Nodes.Size; i++)
        {
            while (true)
            {
                var (status, members) = await Nodes[i].GetJson("admin/cluster/members");
                if (status == 200 && members.GetProperty("members").EnumerateArray().Count(m =>
                        m.GetProperty("status").GetString() == "Up" && m.GetProperty("reachability").GetString() == "reachable") == Nodes.Size
                    && members.GetProperty("members").GetArrayLength() == Nodes.Size)
                    break;
                Assert.True(DateTime.UtcNow < deadline, $"node {i} does not see {Nodes.Size} members Up and reachable within 120 s: {members}\n{Nodes.Output}");
                await Task.Delay(250);
            }
            await Nodes[i].WaitReadyAsync(TimeSpan.FromSeconds(120));
        }
    }

    /// <summary>The index of the oldest member (the singletons' host), as node <paramref name="asking"/> sees it.</summary>
    public async Task<int> OldestAsync(int asking = 0)
    {
        var (_, members) = await Nodes[asking].GetJson("admin/cluster/members");
        return IndexOf(members.GetProperty("oldest").GetString()!);
    }

    public int IndexOf(string address) => Nodes.SeedNodes.ToList().FindIndex(s => string.Equals(s, address.TrimEnd('/'), StringComparison.Ordinal));

    /// <summary>For each partition of <paramref name="region"/> (entity or view), the index of the node hosting it, as sharding reports it.</summary>
    public async Task<IReadOnlyDictionary<int, int>> PlacementAsync(int asking, string region)
    {
        var (status, stats) = await Nodes[asking].GetJson($"admin/sharding/regions/{region}");
        Assert.True(status == 200, $"GET admin/sharding/regions/{region} answered {status}: {stats}");
        var placement = new Dictionary<int, int>();
        foreach (var node in stats.GetProperty("nodes").EnumerateArray())
        {
            var index = IndexOf(node.GetProperty("address").GetString()!);
            foreach (var shard in node.GetProperty("shards").EnumerateArray())
                placement[KeyGroups.ParseId(shard.GetProperty("id").GetString()!)] = index;
        }
        return placement;
    }

    /// <summary>The node other than <paramref name="oldest"/> hosting the most entity partitions.</summary>
    public async Task<int> BusiestBesidesAsync(int oldest)
    {
        var entities = await PlacementAsync(oldest, "entity");
        return Enumerable.Range(0, Nodes.Size).Where(i => i != oldest).MaxBy(i => entities.Count(p => p.Value == i));
    }

    /// <summary>
    /// Waits until <paramref name="victim"/> hosts some entity and some view partitions and another node some entity partitions
    /// (a cluster started node after node has them all on its first node; sharding moves them onto the others a few at a time);
    /// after 60 s, goes on as they are.
    /// </summary>
    public async Task SpreadAsync(int victim)
    {
        var asking = (victim + 1) % Nodes.Size;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var entities = await PlacementAsync(asking, "entity");
            var views = await PlacementAsync(asking, "view");
            if (entities.Values.Contains(victim) && views.Values.Contains(victim) && entities.Values.Any(n => n != victim)) return;
            await Task.Delay(500);
        }
    }

    public static string Describe(IReadOnlyDictionary<int, int> placement) =>
        string.Join(", ", placement.GroupBy(p => p.Value).OrderBy(g => g.Key).Select(g => $"node {g.Key}: {string.Join(" ", g.Select(p => p.Key).Order())}"));

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        _kafka?.Dispose();
        if (_journal is not null) await _journal.DisposeAsync();
    }
}
