// This node's replica of the view catalog, with each view's parsed definition: what projections, view
// partitions and the gateway consult. Updated only by ViewCatalogReplica. Its version is the catalog's
// journal position, so it only grows, across restarts and failovers of the catalog too.
using System.Collections.Immutable;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Catalog;

public sealed record CatalogView(ViewEntry Entry, ViewDefinition Definition)
{
    public string Name => Entry.Name;
    public long Incarnation => Entry.Incarnation;
    public bool Ready => Entry.Status == ViewStatus.Ready;

    /// <summary>"name@incarnation": how projections and partitions name a view incarnation.</summary>
    public string Id => ViewIds.Of(Name, Incarnation);
}

public static class ViewIds
{
    public static string Of(string name, long incarnation) => $"{name}@{incarnation}";

    public static (string Name, long Incarnation) Parse(string id)
    {
        var at = id.LastIndexOf('@');
        return at > 0 && long.TryParse(id.AsSpan(at + 1), out var incarnation)
            ? (id[..at], incarnation)
            : throw new FormatException($"'{id}' is not a view id of the form name@incarnation");
    }
}

public sealed class ViewCatalog
{
    private readonly object _gate = new();
    private volatile ImmutableDictionary<string, CatalogView> _views = ImmutableDictionary<string, CatalogView>.Empty;
    private long _version = -1;
    private long _nextIncarnation = 1;

    public IReadOnlyCollection<CatalogView> All => _views.Values.ToList();

    public CatalogView? Find(string name) => _views.GetValueOrDefault(name);

    public CatalogView? Find(string name, long incarnation) =>
        _views.TryGetValue(name, out var v) && v.Incarnation == incarnation ? v : null;

    public long Version => Interlocked.Read(ref _version);

    /// <summary>
    /// Whether view incarnation <paramref name="incarnation"/> is gone for good: this replica knows it was created (its
    /// incarnation was issued) but the view is no longer in the catalog. An incarnation not issued yet is unknown, not gone.
    /// </summary>
    public bool IsGone(string name, long incarnation) => incarnation < Interlocked.Read(ref _nextIncarnation) && Find(name, incarnation) is null;

    public void Update(ViewCatalogState state)
    {
        lock (_gate)
        {
            if (state.Version <= _version) return;
            var current = _views;
            var next = ImmutableDictionary.CreateBuilder<string, CatalogView>(StringComparer.Ordinal);
            foreach (var entry in state.Views)
            {
                var definition = current.TryGetValue(entry.Name, out var known) && known.Incarnation == entry.Incarnation
                    ? known.Definition
                    : ViewSql.Parse(entry.Sql);
                next[entry.Name] = new CatalogView(entry, definition);
            }
            _views = next.ToImmutable();
            Interlocked.Exchange(ref _nextIncarnation, state.NextIncarnation);
            Interlocked.Exchange(ref _version, state.Version);
        }
    }
}
