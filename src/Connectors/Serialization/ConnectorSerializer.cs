// The serializer for connector records that are journaled or cross nodes (bound in connectors.conf).
using System.Text.Json.Serialization;
using Akka.Actor;
using ContextLake.Connectors.Framework;
using ContextLake.Connectors.Http;
using ContextLake.Platform.Serialization;

namespace ContextLake.Connectors.Serialization;

/// <summary>Marker for connector messages routed to <see cref="ConnectorSerializer"/>.</summary>
public interface IConnectorMessage;

public sealed class ConnectorSerializer : ManifestJsonSerializer
{
    public const int SerializerId = 7302;

    public ConnectorSerializer(ExtendedActorSystem system) : base(system)
    {
        var ctx = ConnectorJsonContext.Default;
        Register("wb", ctx.WriteBatchRecord);
        Register("ws", ctx.WriteLogSnapshot);
        Register("wa", ctx.AppendWrites);
        Register("wA", ctx.WritesAppended);
        Register("wR", ctx.WritesRefused);
        Register("wp", ctx.GetWriteLogPosition);
        Register("wP", ctx.WriteLogPosition);
        Register("kc", ctx.CreateConnector);
        Register("kd", ctx.DeleteConnector);
        Register("kp", ctx.PauseConnector);
        Register("kr", ctx.ResumeConnector);
        Register("kl", ctx.ListConnectors);
        Register("ki", ctx.ConnectorInfo);
        Register("kL", ctx.ConnectorList);
        Register("kR", ctx.ConnectorReply);
        Register("kC", ctx.ConnectorCreated);
        Register("kD", ctx.ConnectorDeleted);
        Register("kP", ctx.ConnectorPaused);
        Register("kS", ctx.ConnectorResumed);
        Register("kx", ctx.DeclaredConnectors);
        Register("kn", ctx.NodeConnectorStreams);
    }

    public override int Identifier => SerializerId;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(WriteBatchRecord))]
[JsonSerializable(typeof(WriteLogSnapshot))]
[JsonSerializable(typeof(AppendWrites))]
[JsonSerializable(typeof(WritesAppended))]
[JsonSerializable(typeof(WritesRefused))]
[JsonSerializable(typeof(GetWriteLogPosition))]
[JsonSerializable(typeof(WriteLogPosition))]
[JsonSerializable(typeof(CreateConnector))]
[JsonSerializable(typeof(DeleteConnector))]
[JsonSerializable(typeof(PauseConnector))]
[JsonSerializable(typeof(ResumeConnector))]
[JsonSerializable(typeof(ListConnectors))]
[JsonSerializable(typeof(ConnectorInfo))]
[JsonSerializable(typeof(ConnectorList))]
[JsonSerializable(typeof(ConnectorReply))]
[JsonSerializable(typeof(ConnectorCreated))]
[JsonSerializable(typeof(ConnectorDeleted))]
[JsonSerializable(typeof(ConnectorPaused))]
[JsonSerializable(typeof(ConnectorResumed))]
[JsonSerializable(typeof(DeclaredConnectors))]
[JsonSerializable(typeof(NodeConnectorStreams))]
internal sealed partial class ConnectorJsonContext : JsonSerializerContext;
