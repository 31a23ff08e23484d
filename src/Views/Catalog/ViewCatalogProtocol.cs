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
/// and created again under the same name never sees the old one's state. While it is backfilling,
/// <see cref="BackfillDone"/> of <see cref="BackfillTotal"/> entity partitions have delivered their part
/// (<see cref="BackfilledEvents"/> events replayed in all).
/// </summary>
public sealed record ViewEntry(string Name, long Incarnation, string Sql, ViewStatus Status, long BackfillDone, long BackfillTotal, long BackfilledEvents = 0);

/// <summary>
/// The whole catalog as of journal position <see cref="Version"/> (it only grows); <see cref="NextIncarnation"/> is the
/// next incarnation to be issued, so a replica tells a dropped view from one it has not heard of yet.
/// </summary>
public sealed record ViewCatalogState(long Version, long NextIncarnation, IReadOnlyList<ViewEntry> Views) : IViewsMessage;

public sealed record CreateView(string Sql, string Name) : IViewsMessage;

public sealed record DropView(string Name) : IViewsMessage;

public sealed record GetViewCatalog : IViewsMessage
{
    public static GetViewCatalog Instance { get; } = new();
}

/// <summary>Answer to Create/Drop: the entry, or why not: exists (View is the existing one), unknown, or a limit (View is null).</summary>
public sealed record ViewCatalogReply(ViewEntry? View, string? Refusal) : IViewsMessage;

/// <summary>From an entity partition: it has delivered its part of the view's backfill (<see cref="Events"/> events replayed).</summary>
public sealed record PartitionBackfilled(string Name, long Incarnation, int Partition, long Events) : IViewsMessage;

// Journal records.
public sealed record ViewCreated(string Name, long Incarnation, string Sql) : IViewsMessage;

public sealed record ViewDropped(string Name) : IViewsMessage;

public sealed record ViewBecameReady(string Name, long Incarnation) : IViewsMessage;

public sealed record ViewPartitionBackfilled(string Name, long Incarnation, int Partition, long Events) : IViewsMessage;

public static class ViewTopics
{
    public const string Catalog = "contextlake-views";
}

/// <summary>Key under which the catalog's singleton proxy is registered.</summary>
public sealed class ViewCatalogKey;
