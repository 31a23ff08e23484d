// Redis protocol read load as the suite makes it: one StackExchange.Redis ConnectionMultiplexer per client, as
// separate services connect (no client shares another's socket), connected before the clock starts; each client a
// closed loop of one MGET at a time, timed by its own Stopwatch from the call to the answer, and every answer checked
// to hold a value for each key (a nil or a short answer stops the run: it would be a figure of nothing read).
using StackExchange.Redis;

namespace ContextLake.Benchmarks.Support;

public sealed class RespClients : IAsyncDisposable
{
    private readonly ConnectionMultiplexer[] _connections;

    private RespClients(string configuration, ConnectionMultiplexer[] connections)
    {
        Configuration = configuration;
        _connections = connections;
    }

    public string Configuration { get; }

    public int Count => _connections.Length;

    /// <summary><paramref name="count"/> multiplexers to <paramref name="configuration"/> (host:port), each with its own connection.</summary>
    public static async Task<RespClients> ConnectAsync(string configuration, int count)
    {
        var connections = new List<ConnectionMultiplexer>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var options = ConfigurationOptions.Parse(configuration);
                options.ClientName = $"bench-{i}";
                options.ConnectTimeout = 10_000;
                options.AsyncTimeout = 30_000;
                options.SyncTimeout = 30_000;
                connections.Add(await ConnectionMultiplexer.ConnectAsync(options));
            }
            return new RespClients(configuration, connections.ToArray());
        }
        catch
        {
            foreach (var c in connections) await c.DisposeAsync();
            throw;
        }
    }

    /// <summary>The server's version as its INFO tells it (a ContextLake node tells the Redis version whose reads it answers).</summary>
    public string ServerVersion => _connections[0].GetServers()[0].Version.ToString();

    /// <summary>One MGET of <paramref name="keys"/> on client <paramref name="client"/>'s connection; throws unless every key has a value.</summary>
    public async Task<RedisValue[]> MgetAsync(int client, RedisKey[] keys)
    {
        var values = await _connections[client].GetDatabase().StringGetAsync(keys);
        if (values.Length != keys.Length) throw new InvalidOperationException($"MGET of {keys.Length} keys on {Configuration} answered {values.Length} values");
        for (var i = 0; i < values.Length; i++)
            if (values[i].IsNull) throw new InvalidOperationException($"MGET on {Configuration} answered nil for {keys[i]}");
        return values;
    }

    /// <summary>Closed loop of MGETs from the first <paramref name="clients"/> connections for <paramref name="duration"/>; latencies in ms.</summary>
    public Task<(List<double> Latencies, double Seconds)> ClosedLoopAsync(int clients, TimeSpan duration, RedisKey[] keys)
    {
        if (clients > _connections.Length) throw new ArgumentOutOfRangeException(nameof(clients), $"{clients} clients asked of {_connections.Length} connections");
        return Reads.DecisionReadScenario.ClosedLoop(clients, duration, client => MgetAsync(client, keys));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _connections) await c.DisposeAsync();
    }
}
