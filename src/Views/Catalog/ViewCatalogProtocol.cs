// Messages and journal records of the view catalog: which views exist, under which incarnation, and
// whether each is still backfilling from the journal or ready to read; and the entity schemas the views and
// every event are checked against, declared at run time beside the configured ones.
using ContextLake.Platform.Hosting;
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Catalog;

public enum ViewStatus
{
    Backfilling,
    Ready,
}

/// <summary>
/// A view as the catalog knows it. <see cref="Incarnation"/> is unique per creation, so a view dropped
/// and created again under the same name never sees the old one's state. While it is backfilling,
/// <see cref="BackfillDone"/> of <see cref="BackfillTotal"/> entity partitions have delivered their part
/// (<see cref="BackfilledEvents"/> events replayed in all).
/// </summary>
public sealed record ViewEntry(string Name, long Incarnation, string Sql, ViewStatus Status, long BackfillDone, long BackfillTotal, long BackfilledEvents = 0);

/// <summary>
/// An entity type's schema: each declared field's kind (number, string, boolean, time or vector; fields in ordinal
/// order) and its mode (open takes undeclared fields, strict refuses them).
/// </summary>
public sealed record SchemaEntry(string Type, IReadOnlyDictionary<string, string> Fields, string Mode)
{
    public bool Strict => Mode == "strict";

    /// <summary>The same schema: the same fields of the same kinds and the same mode.</summary>
    public bool SameAs(SchemaEntry other) =>
        Type == other.Type && Mode == other.Mode && Fields.Count == other.Fields.Count
        && Fields.All(f => other.Fields.TryGetValue(f.Key, out var kind) && kind == f.Value);

    /// <summary>A schema with its fields in ordinal order, as the catalog keeps and journals it.</summary>
    public static SchemaEntry Of(string type, IEnumerable<KeyValuePair<string, string>> fields, string mode) =>
        new(type, fields.OrderBy(f => f.Key, StringComparer.Ordinal).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal), mode);

    /// <summary>The schemas of ContextLake:Schemas (with ContextLake:SchemaModes): the catalog's initial ones.</summary>
    public static IReadOnlyList<SchemaEntry> Configured(NodeOptions options) =>
        options.Schemas.OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => Of(s.Key, s.Value, options.SchemaModes.GetValueOrDefault(s.Key, "open")))
            .ToList();
}

/// <summary>
/// The whole catalog as of journal position <see cref="Version"/> (it only grows); <see cref="NextIncarnation"/> is the
/// next incarnation to be issued, so a replica tells a dropped view from one it has not heard of yet.
/// <see cref="Schemas"/> are the entity schemas declared in the catalog, by type.
/// </summary>
public sealed record ViewCatalogState(long Version, long NextIncarnation, IReadOnlyList<ViewEntry> Views, IReadOnlyList<SchemaEntry>? Schemas = null)
    : IViewsMessage;

public sealed record CreateView(string Sql, string Name) : IViewsMessage;

public sealed record DropView(string Name) : IViewsMessage;

public sealed record GetViewCatalog : IViewsMessage
{
    public static GetViewCatalog Instance { get; } = new();
}

/// <summary>Answer to Create/Drop: the entry, or why not: exists (View is the existing one), unknown, or a limit (View is null).</summary>
public sealed record ViewCatalogReply(ViewEntry? View, string? Refusal) : IViewsMessage;

/// <summary>
/// Declares <see cref="Schema"/> (creates or replaces its type's schema). With <see cref="OnlyIfAbsent"/> (a configured
/// schema at startup) a type the catalog already has is left as it is.
/// </summary>
public sealed record PutSchema(SchemaEntry Schema, bool OnlyIfAbsent = false) : IViewsMessage;

public sealed record DeleteSchema(string Type) : IViewsMessage;

public enum SchemaOutcome
{
    Created,
    Replaced,

    /// <summary>The schema was already so (or, for a put only if absent, the type has one: <see cref="SchemaCatalogReply.Schema"/>).</summary>
    Unchanged,
    Deleted,

    /// <summary>There is no schema for the type.</summary>
    Unknown,

    /// <summary>Refused: views read what the change would take away or retype (<see cref="SchemaCatalogReply.Detail"/> names them).</summary>
    InUse,
}

/// <summary>
/// Answer to Put/DeleteSchema: what happened, the schema (as declared now; the deleted one for a delete) and the catalog's
/// version that holds the outcome, so the asker can wait for its replica to reach it.
/// </summary>
public sealed record SchemaCatalogReply(SchemaOutcome Outcome, SchemaEntry? Schema, long Version, string? Detail = null) : IViewsMessage;

/// <summary>From an entity partition: it has delivered its part of the view's backfill (<see cref="Events"/> events replayed).</summary>
public sealed record PartitionBackfilled(string Name, long Incarnation, int Partition, long Events) : IViewsMessage;

// Journal records.
public sealed record ViewCreated(string Name, long Incarnation, string Sql) : IViewsMessage;

public sealed record ViewDropped(string Name) : IViewsMessage;

public sealed record ViewBecameReady(string Name, long Incarnation) : IViewsMessage;

public sealed record ViewPartitionBackfilled(string Name, long Incarnation, int Partition, long Events) : IViewsMessage;

/// <summary>The type's schema is now <see cref="Fields"/> (in ordinal order) and <see cref="Mode"/>, whatever it was.</summary>
public sealed record SchemaDeclared(string Type, IReadOnlyDictionary<string, string> Fields, string Mode) : IViewsMessage;

public sealed record SchemaDeleted(string Type) : IViewsMessage;

public static class ViewTopics
{
    public const string Catalog = "contextlake-views";
}

/// <summary>Key under which the catalog's singleton proxy is registered.</summary>
public sealed class ViewCatalogKey;
