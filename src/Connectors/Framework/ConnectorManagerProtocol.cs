// Messages and journal records of the connector manager (Kafka Connect's REST verbs as messages).
using ContextLake.Connectors.Serialization;

namespace ContextLake.Connectors.Framework;

public sealed record CreateConnector(string Name, string ConfigJson) : IConnectorMessage;

public sealed record DeleteConnector(string Name) : IConnectorMessage;

public sealed record PauseConnector(string Name) : IConnectorMessage;

public sealed record ResumeConnector(string Name) : IConnectorMessage;

public sealed record ListConnectors : IConnectorMessage
{
    public static ListConnectors Instance { get; } = new();
}

public sealed record ConnectorInfo(string Name, string Type, string ConfigJson, string State, string? Error, IReadOnlyList<StreamStatus> Streams) : IConnectorMessage;

public sealed record ConnectorList(IReadOnlyList<ConnectorInfo> Connectors) : IConnectorMessage;

/// <summary>Answer to create/delete/pause/resume: the connector, or why not (NotFound, Conflict, Invalid).</summary>
public sealed record ConnectorReply(ConnectorInfo? Connector, string? Refusal, string? RefusalKind) : IConnectorMessage;

// Journal records: the declared connectors survive restarts.
public sealed record ConnectorCreated(string Name, string ConfigJson) : IConnectorMessage;

public sealed record ConnectorDeleted(string Name) : IConnectorMessage;

public sealed record ConnectorPaused(string Name) : IConnectorMessage;

public sealed record ConnectorResumed(string Name) : IConnectorMessage;

/// <summary>Key under which the manager's singleton proxy is registered.</summary>
public sealed class ConnectorManagerKey;

// Across nodes: the manager publishes what is declared; every node runs its share and reports its streams.

/// <summary>Every declared connector and whether it is paused, published by the manager to every node's runner.</summary>
public sealed record DeclaredConnectors(IReadOnlyList<DeclaredConnector> Connectors) : IConnectorMessage;

public sealed record DeclaredConnector(string Name, string ConfigJson, bool Paused);

/// <summary>What one node runs of the connectors that run on every node, reported to the manager every second.</summary>
public sealed record NodeConnectorStreams(string Node, IReadOnlyList<NodeConnectorState> Connectors) : IConnectorMessage;

public sealed record NodeConnectorState(string Name, string? Error, IReadOnlyList<StreamStatus> Streams);

public static class ConnectorTopics
{
    /// <summary>DistributedPubSub topic of <see cref="DeclaredConnectors"/>.</summary>
    public const string Declared = "contextlake-connectors";
}
