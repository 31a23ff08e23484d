// The serializer for every Platform message that is persisted or crosses nodes (bound in contextlake.conf).
using System.Text.Json.Serialization;
using Akka.Actor;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Serialization;

/// <summary>Marker for Platform messages routed to <see cref="PlatformSerializer"/>.</summary>
public interface IPlatformMessage;

public sealed class PlatformSerializer : ManifestJsonSerializer
{
    public const int SerializerId = 7301;

    public PlatformSerializer(ExtendedActorSystem system) : base(system)
    {
        var ctx = PlatformJsonContext.Default;
        Register("ev", ctx.IngestEvent);
        Register("es", ctx.EntitySnapshot);
        Register("ea", ctx.ApplyEvents);
        Register("eA", ctx.EventsApplied);
        Register("eg", ctx.GetEntity);
        Register("eG", ctx.EntityReadResult);
        Register("eo", ctx.ReadTooOld);
        Register("em", ctx.EntityMvccSnapshot);
        Register("rc", ctx.RowChange);
        Register("pe", ctx.Epoch);
        Register("pr", ctx.EpochRecorded);
        Register("pw", ctx.ReportWatermark);
        Register("pl", ctx.GetLatestEpoch);
        Register("pp", ctx.GetStreamPositions);
        Register("pP", ctx.StreamPositions);
    }

    public override int Identifier => SerializerId;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(IngestEvent))]
[JsonSerializable(typeof(EntitySnapshot))]
[JsonSerializable(typeof(ApplyEvents))]
[JsonSerializable(typeof(EventsApplied))]
[JsonSerializable(typeof(GetEntity))]
[JsonSerializable(typeof(EntityReadResult))]
[JsonSerializable(typeof(ReadTooOld))]
[JsonSerializable(typeof(EntityMvccSnapshot))]
[JsonSerializable(typeof(RowChange))]
[JsonSerializable(typeof(Epoch))]
[JsonSerializable(typeof(EpochRecorded))]
[JsonSerializable(typeof(ReportWatermark))]
[JsonSerializable(typeof(GetLatestEpoch))]
[JsonSerializable(typeof(GetStreamPositions))]
[JsonSerializable(typeof(StreamPositions))]
internal sealed partial class PlatformJsonContext : JsonSerializerContext;
