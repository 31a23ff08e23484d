// The serializer for view messages that are journaled or cross nodes (bound in views.conf).
using System.Text.Json.Serialization;
using Akka.Actor;
using ContextLake.Platform.Serialization;
using ContextLake.Views.Actors;
using ContextLake.Views.Catalog;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Serialization;

/// <summary>Marker for view messages routed to <see cref="ViewsSerializer"/>.</summary>
public interface IViewsMessage;

public sealed class ViewsSerializer : ManifestJsonSerializer
{
    public const int SerializerId = 7303;

    public ViewsSerializer(ExtendedActorSystem system) : base(system)
    {
        var ctx = ViewsJsonContext.Default;
        Register("cs", ctx.ViewCatalogState);
        Register("cc", ctx.CreateView);
        Register("cd", ctx.DropView);
        Register("cg", ctx.GetViewCatalog);
        Register("cr", ctx.ViewCatalogReply);
        Register("cp", ctx.BackfillProgress);
        Register("cC", ctx.ViewCreated);
        Register("cD", ctx.ViewDropped);
        Register("cR", ctx.ViewBecameReady);
        Register("va", ctx.ApplyViewDeltas);
        Register("vA", ctx.ViewDeltasApplied);
        Register("vr", ctx.ReadViewKey);
        Register("vR", ctx.ViewKeyValues);
        Register("vx", ctx.ViewReadRefused);
        Register("vb", ctx.ViewDeltaBatch);
        Register("vs", ctx.ViewKeySnapshot);
        Register("xa", ctx.ApplyVectorChanges);
        Register("xs", ctx.SearchVectors);
        Register("xn", ctx.VectorNeighbors);
        Register("xb", ctx.VectorChangeBatch);
        Register("xS", ctx.VectorPartitionSnapshot);
    }

    public override int Identifier => SerializerId;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ViewCatalogState))]
[JsonSerializable(typeof(CreateView))]
[JsonSerializable(typeof(DropView))]
[JsonSerializable(typeof(GetViewCatalog))]
[JsonSerializable(typeof(ViewCatalogReply))]
[JsonSerializable(typeof(BackfillProgress))]
[JsonSerializable(typeof(ViewCreated))]
[JsonSerializable(typeof(ViewDropped))]
[JsonSerializable(typeof(ViewBecameReady))]
[JsonSerializable(typeof(ApplyViewDeltas))]
[JsonSerializable(typeof(ViewDeltasApplied))]
[JsonSerializable(typeof(ReadViewKey))]
[JsonSerializable(typeof(ViewKeyValues))]
[JsonSerializable(typeof(ViewReadRefused))]
[JsonSerializable(typeof(ViewDeltaBatch))]
[JsonSerializable(typeof(ViewKeySnapshot))]
[JsonSerializable(typeof(ApplyVectorChanges))]
[JsonSerializable(typeof(SearchVectors))]
[JsonSerializable(typeof(VectorNeighbors))]
[JsonSerializable(typeof(VectorChangeBatch))]
[JsonSerializable(typeof(VectorPartitionSnapshot))]
internal sealed partial class ViewsJsonContext : JsonSerializerContext;
