// The serializer for every Platform message that is persisted or crosses nodes (bound in contextlake.conf).
using System.Text.Json.Serialization;
using Akka.Actor;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Serialization;

/// <summary>Marker for Platform messages routed to <see cref="PlatformSerializer"/>.</summary>
public interface IPlatformMessage;

public sealed class PlatformSerializer : ManifestJsonSerializer
{
    public const int SerializerId = 7301;

    public PlatformSerializer(ExtendedActorSystem system) : base(system)
    {
        var ctx = new PlatformJsonContext(OptionsFrom(PlatformJsonContext.Default.Options));
        Register("ev", ctx.IngestEvent);
        Register("er", ctx.EntityRunRow);
        Register("eK", ctx.EntityPartitionSnapshot);
        // Read only: snapshots a build before this one wrote.
        Register("eS", ctx.EntityPartitionSnapshotV1);
        Register("ep", ctx.ApplyRunPart);
        Register("eP", ctx.RunPartApplied);
        Register("eq", ctx.ReadEntities);
        Register("eQ", ctx.EntityReads);
        Register("eG", ctx.EntityReadResult);
        Register("ec", ctx.CatalogChanged);
        Register("sd", ctx.DownstreamApplied);
        Register("so", ctx.ReadTooOld);
        Register("sb", ctx.StandbyBehind);
        Register("ss", ctx.StartPartition);
        Register("sS", ctx.PartitionStarted);
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
[JsonSerializable(typeof(EntityRunRow))]
[JsonSerializable(typeof(EntityPartitionSnapshot))]
[JsonSerializable(typeof(EntityPartitionSnapshotV1))]
[JsonSerializable(typeof(ApplyRunPart))]
[JsonSerializable(typeof(RunPartApplied))]
[JsonSerializable(typeof(ReadEntities))]
[JsonSerializable(typeof(EntityReads))]
[JsonSerializable(typeof(EntityReadResult))]
[JsonSerializable(typeof(CatalogChanged))]
[JsonSerializable(typeof(StandbyBehind))]
[JsonSerializable(typeof(DownstreamApplied))]
[JsonSerializable(typeof(ReadTooOld))]
[JsonSerializable(typeof(StartPartition))]
[JsonSerializable(typeof(PartitionStarted))]
[JsonSerializable(typeof(Epoch))]
[JsonSerializable(typeof(EpochRecorded))]
[JsonSerializable(typeof(ReportWatermark))]
[JsonSerializable(typeof(GetLatestEpoch))]
[JsonSerializable(typeof(GetStreamPositions))]
[JsonSerializable(typeof(StreamPositions))]
internal sealed partial class PlatformJsonContext : JsonSerializerContext;
