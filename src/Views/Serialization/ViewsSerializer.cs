// The serializer for view messages that are journaled or cross nodes (bound in views.conf).
using System.Text.Json.Serialization;
using Akka.Actor;
using ContextLake.Platform.Serialization;
using ContextLake.Views.Catalog;
using ContextLake.Views.Partitions;
using ContextLake.Views.Subscriptions;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Serialization;

/// <summary>Marker for view messages routed to <see cref="ViewsSerializer"/>.</summary>
public interface IViewsMessage;

public sealed class ViewsSerializer : ManifestJsonSerializer
{
    public const int SerializerId = 7303;

    public ViewsSerializer(ExtendedActorSystem system) : base(system)
    {
        var ctx = new ViewsJsonContext(OptionsFrom(ViewsJsonContext.Default.Options));
        Register("cs", ctx.ViewCatalogState);
        Register("cc", ctx.CreateView);
        Register("cd", ctx.DropView);
        Register("cg", ctx.GetViewCatalog);
        Register("cr", ctx.ViewCatalogReply);
        Register("cp", ctx.PartitionBackfilled);
        Register("cC", ctx.ViewCreated);
        Register("cD", ctx.ViewDropped);
        Register("cR", ctx.ViewBecameReady);
        Register("cP", ctx.ViewPartitionBackfilled);
        Register("ct", ctx.PutSchema);
        Register("cu", ctx.DeleteSchema);
        Register("cy", ctx.SchemaCatalogReply);
        Register("cS", ctx.SchemaDeclared);
        Register("cU", ctx.SchemaDeleted);
        Register("va", ctx.ApplyViewDeltas);
        Register("vr", ctx.ViewPartitionRow);
        Register("vs", ctx.ViewPartitionSnapshot);
        Register("vq", ctx.ReadViewKeys);
        Register("vQ", ctx.ViewKeyReads);
        Register("sn", ctx.ViewChangeNotice);
        Register("xa", ctx.ApplyVectorChanges);
        Register("xr", ctx.VectorPartitionRow);
        Register("xS", ctx.VectorPartitionSnapshot);
        Register("xs", ctx.SearchVectors);
        Register("xn", ctx.VectorNeighbors);
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
[JsonSerializable(typeof(PartitionBackfilled))]
[JsonSerializable(typeof(ViewCreated))]
[JsonSerializable(typeof(ViewDropped))]
[JsonSerializable(typeof(ViewBecameReady))]
[JsonSerializable(typeof(ViewPartitionBackfilled))]
[JsonSerializable(typeof(PutSchema))]
[JsonSerializable(typeof(DeleteSchema))]
[JsonSerializable(typeof(SchemaCatalogReply))]
[JsonSerializable(typeof(SchemaDeclared))]
[JsonSerializable(typeof(SchemaDeleted))]
[JsonSerializable(typeof(ApplyViewDeltas))]
[JsonSerializable(typeof(ViewPartitionRow))]
[JsonSerializable(typeof(ViewPartitionSnapshot))]
[JsonSerializable(typeof(ReadViewKeys))]
[JsonSerializable(typeof(ViewKeyReads))]
[JsonSerializable(typeof(ViewChangeNotice))]
[JsonSerializable(typeof(ApplyVectorChanges))]
[JsonSerializable(typeof(VectorPartitionRow))]
[JsonSerializable(typeof(VectorPartitionSnapshot))]
[JsonSerializable(typeof(SearchVectors))]
[JsonSerializable(typeof(VectorNeighbors))]
internal sealed partial class ViewsJsonContext : JsonSerializerContext;
