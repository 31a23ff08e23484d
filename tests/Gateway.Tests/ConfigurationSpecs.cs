// A bad configuration value, or a port it names that is taken, stops the node at startup with a message naming the setting.
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests;

public sealed class ConfigurationSpecs
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "ContextLake__Journal__Provider", "mysql", "ContextLake:Journal:Provider" },
        { "ContextLake__Http__MaxBatchEvents", "many", "ContextLake:Http:MaxBatchEvents" },
        { "ContextLake__Http__MaxBatchEvents", "0", "ContextLake:Http:MaxBatchEvents" },
        { "ContextLake__Cluster__Port", "99999", "ContextLake:Cluster:Port" },
        { "ContextLake__Journal__Provider", "postgresql", "ContextLake:Journal:ConnectionString" },
        { "ContextLake__Admin__Token", "short", "ContextLake:Admin:Token" },
        { "ContextLake__Resp__Urls", "redis-host", "ContextLake:Resp:Urls" },
        { "ContextLake__Resp__MaxKeysPerCommand", "0", "ContextLake:Resp:MaxKeysPerCommand" },
        { "ContextLake__Decisions__ReconcileBatch", "0", "ContextLake:Decisions:ReconcileBatch" },
    };

    [Fact]
    public async Task a_redis_protocol_port_taken_by_another_process_stops_startup_naming_the_setting()
    {
        var dir = Directory.CreateTempSubdirectory("contextlake-config-").FullName;
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        try
        {
            await using var node = NodeProcess.Start(new Dictionary<string, string>
            {
                ["ContextLake__Journal__DataDirectory"] = dir,
                ["ContextLake__Resp__Urls"] = $"127.0.0.1:{port}",
            });
            Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("cannot listen", node.Output);
            Assert.Contains($"ContextLake:Resp:Urls '127.0.0.1:{port}'", node.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task a_bad_value_stops_startup_naming_the_setting(string variable, string value, string setting)
    {
        var dir = Directory.CreateTempSubdirectory("contextlake-config-").FullName;
        try
        {
            await using var node = NodeProcess.Start(new Dictionary<string, string>
            {
                ["ContextLake__Journal__DataDirectory"] = dir,
                [variable] = value,
            });
            Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains(setting, node.Output);
            Assert.Contains("bad configuration", node.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
