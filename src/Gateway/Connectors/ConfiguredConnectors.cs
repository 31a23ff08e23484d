// Creates the connectors of the connectors file (ContextLake:ConnectorsFile, the REST shape) when absent.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Cdc;
using ContextLake.Connectors.Files;
using ContextLake.Connectors.Framework;
using ContextLake.Connectors.Kafka;

namespace ContextLake.Gateway.Connectors;

public sealed class ConfiguredConnectors(IReadOnlyList<(string Name, string ConfigJson)> connectors, ActorRegistry registry, ILogger<ConfiguredConnectors> log)
    : BackgroundService
{
    /// <summary>The connector types every node knows; Kafka connectors default to <paramref name="kafkaBootstrapServers"/>.</summary>
    public static ConnectorTypes BuiltInTypes(Func<string> kafkaBootstrapServers) =>
        new([new JsonLinesConnectorFactory(), new KafkaConnectorFactory(kafkaBootstrapServers), new CdcConnectorFactory()]);

    /// <summary>Reads the file; a bad entry is a startup error naming the file and the entry.</summary>
    public static IReadOnlyList<(string Name, string ConfigJson)> Load(string? path, ConnectorTypes types)
    {
        if (string.IsNullOrEmpty(path)) return [];
        var full = Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);
        if (!File.Exists(full)) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(full));
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw new ConnectorConfigException(path, "", "the connectors file must hold a JSON array of {\"name\", \"config\"}");
        var list = new List<(string, string)>();
        var i = 0;
        foreach (var entry in doc.RootElement.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                || !ConnectorConfig.IsValidName(n.GetString()!) || !entry.TryGetProperty("config", out var c) || c.ValueKind != JsonValueKind.Object)
                throw new ConnectorConfigException(at, "", "must be {\"name\": identifier, \"config\": {…}}");
            var config = new ConnectorConfig(n.GetString()!, c);
            types.For(config).Validate(config);
            list.Add((config.Name, c.GetRawText()));
        }
        return list;
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var manager = await registry.GetAsync<ConnectorManagerKey>(stop);
        foreach (var (name, config) in connectors)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await manager.Ask<ConnectorReply>(new CreateConnector(name, config), TimeSpan.FromSeconds(5), stop);
                    break;
                }
                catch (AskTimeoutException)
                {
                    log.LogInformation("waiting for the connector manager to create connector {Connector}", name);
                }
            }
        }
    }
}
