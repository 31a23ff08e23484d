// The serializer for connector records that are journaled or cross nodes (bound in connectors.conf).
using System.Text.Json.Serialization;
using Akka.Actor;
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
        Register("wp", ctx.GetWriteLogPosition);
        Register("wP", ctx.WriteLogPosition);
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
[JsonSerializable(typeof(GetWriteLogPosition))]
[JsonSerializable(typeof(WriteLogPosition))]
internal sealed partial class ConnectorJsonContext : JsonSerializerContext;
