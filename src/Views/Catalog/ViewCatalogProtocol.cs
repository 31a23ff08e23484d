// Messages and journal records of the view catalog: which views exist, under which incarnation, and
// whether each is still backfilling from the journal or ready to read.
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Catalog;

public enum ViewStatus
{
    Backfilling,
    Ready,
}

/// <summary>
/// A view as the catalog knows it. <see cref="Incarnation"/> is unique per creation, so a view dropped
/// and created again under the same name never sees the old one's state.
/// </summary>
public sealed record ViewEntry(string Name, long Incarnation, string Sql, ViewStatus Status, long BackfillDone, long BackfillTotal);

public sealed record ViewCatalogState(long Version, IReadOnlyList<ViewEntry> Views) : IViewsMessage;

public sealed record CreateView(string Sql, string Name) : IViewsMessage;

public sealed record DropView(string Name) : IViewsMessage;

public sealed record GetViewCatalog : IViewsMessage
{
    public static GetViewCatalog Instance { get; } = new();
}

/// <summary>Answer to Create/Drop: the entry, or why not (exists, unknown).</summary>
public sealed record ViewCatalogReply(ViewEntry? View, string? Refusal) : IViewsMessage;

public sealed record BackfillProgress(string Name, long Incarnation, long Done, long Total, bool Finished) : IViewsMessage;

// Journal records.
public sealed record ViewCreated(string Name, long Incarnation, string Sql) : IViewsMessage;

public sealed record ViewDropped(string Name) : IViewsMessage;

public sealed record ViewBecameReady(string Name, long Incarnation) : IViewsMessage;

public static class ViewTopics
{
    public const string Catalog = "contextlake-views";
}

/// <summary>Key under which the catalog's singleton proxy is registered.</summary>
public sealed class ViewCatalogKey;
