// This node's replica of the view catalog, with each view's parsed definition: what projection,
// view actors and the gateway consult. Updated only by ViewCatalogReplica.
using System.Collections.Immutable;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Catalog;

public sealed record CatalogView(ViewEntry Entry, ViewDefinition Definition)
{
    public string Name => Entry.Name;
    public long Incarnation => Entry.Incarnation;
    public bool Ready => Entry.Status == ViewStatus.Ready;
}

public sealed class ViewCatalog
{
    private readonly object _gate = new();
    private volatile ImmutableDictionary<string, CatalogView> _views = ImmutableDictionary<string, CatalogView>.Empty;
    private long _version = -1;

    public IReadOnlyCollection<CatalogView> All => _views.Values.ToList();

    public CatalogView? Find(string name) => _views.GetValueOrDefault(name);

    public CatalogView? Find(string name, long incarnation) =>
        _views.TryGetValue(name, out var v) && v.Incarnation == incarnation ? v : null;

    public long Version => Interlocked.Read(ref _version);

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
            Interlocked.Exchange(ref _version, state.Version);
        }
    }
}
