// Several ContextLake node processes forming one Akka cluster on loopback, sharing one journal. Every node
// has fixed HTTP and Akka ports and lists every node as a seed, so a node killed and started again comes
// back at the same address and rejoins the others (the first seed joins itself only when no other answers).
namespace ContextLake.Testing;

public sealed class NodeCluster : IAsyncDisposable
{
    private readonly NodeProcess?[] _nodes;
    private readonly int[] _httpPorts;
    private readonly IReadOnlyDictionary<string, string>[] _environments;
    private readonly List<NodeProcess> _exited = new();

    private NodeCluster(int size, IReadOnlyDictionary<string, string> shared)
    {
        _nodes = new NodeProcess?[size];
        _httpPorts = Enumerable.Range(0, size).Select(_ => NodeProcess.FreePort()).ToArray();
        var akkaPorts = Enumerable.Range(0, size).Select(_ => NodeProcess.FreePort()).ToArray();
        SeedNodes = akkaPorts.Select(p => $"akka.tcp://contextlake@127.0.0.1:{p}").ToArray();
        _environments = akkaPorts.Select(port =>
        {
            var env = new Dictionary<string, string>(shared)
            {
                ["ContextLake__Cluster__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            for (var i = 0; i < SeedNodes.Count; i++) env[$"ContextLake__Cluster__SeedNodes__{i}"] = SeedNodes[i];
            return (IReadOnlyDictionary<string, string>)env;
        }).ToArray();
    }

    public IReadOnlyList<string> SeedNodes { get; }

    public int Size => _nodes.Length;

    /// <summary>Node <paramref name="i"/> as it runs now (after a restart, the new process).</summary>
    public NodeProcess this[int i] => _nodes[i] ?? throw new InvalidOperationException($"node {i} is not running");

    public bool IsRunning(int i) => _nodes[i] is { HasExited: false };

    /// <summary>Starts node 0 first (the oldest member: it hosts the cluster singletons), then the others together;
    /// returns once every node is ready.</summary>
    public static async Task<NodeCluster> StartAsync(int size, IReadOnlyDictionary<string, string> environment)
    {
        var cluster = new NodeCluster(size, environment);
        try
        {
            await cluster.StartNodeAsync(0);
            await Task.WhenAll(Enumerable.Range(1, size - 1).Select(cluster.StartNodeAsync));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts node <paramref name="i"/> (again) on its ports and waits until it is ready.</summary>
    public async Task StartNodeAsync(int i)
    {
        if (IsRunning(i)) throw new InvalidOperationException($"node {i} is running");
        // The old process stays undisposed until the end: clients may still hold it and should see it refuse, not throw.
        if (_nodes[i] is { } old) _exited.Add(old);
        _nodes[i] = NodeProcess.Start(_environments[i], _httpPorts[i]);
        await _nodes[i]!.WaitReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>SIGKILL: the node vanishes without leaving; the others must notice and down it.</summary>
    public Task KillAsync(int i) => this[i].KillAsync();

    /// <summary>SIGTERM: the node drains, hands its work off and leaves; returns its exit code.</summary>
    public async Task<int> LeaveAsync(int i)
    {
        await this[i].StopAsync();
        return this[i].ExitCode;
    }

    /// <summary>What every node process printed, the exited incarnations included.</summary>
    public string Output => string.Join("\n",
        _exited.Select(n => $"--- exited node (HTTP port {n.Port}) ---\n{n.Output}")
            .Concat(_nodes.Select((n, i) => $"--- node {i} ---\n{n?.Output}")));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Concat(_exited))
            if (node is not null) await node.DisposeAsync();
    }
}
