// This node's replica of the view catalog, with each view's parsed definition: what projections, view
// partitions and the gateway consult. Updated only by ViewCatalogReplica. Its version is the catalog's
// journal position, so it only grows, across restarts and failovers of the catalog too.
// It also holds the entity schemas this node enforces: each change is handed to the node's EventAdmission as
// one snapshot, so every source on this node checks events against it from then on. Until the catalog has this
// node's configured schemas (ConfiguredViews puts those it lacks at startup), a configured type the catalog does
// not have counts as declared the configured way, so no event gets past a configured schema while the node starts.
using System.Collections.Immutable;
using ContextLake.Platform.Events;
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

/// <summary>The schemas this node enforces, as one snapshot: by type, and as views are checked against them.</summary>
public sealed record SchemaSnapshot(ImmutableSortedDictionary<string, SchemaEntry> ByType, EntitySchemas Columns)
{
    public static SchemaSnapshot Of(IEnumerable<SchemaEntry> schemas)
    {
        var byType = schemas.ToImmutableSortedDictionary(s => s.Type, s => s, StringComparer.Ordinal);
        return new SchemaSnapshot(byType, SchemaConfig.From(byType.Values));
    }
}

public sealed class ViewCatalog
{
    private readonly object _gate = new();
    private readonly EventAdmission? _admission;
    private volatile ImmutableDictionary<string, CatalogView> _views = ImmutableDictionary<string, CatalogView>.Empty;
    private long _version = -1;
    private long _nextIncarnation = 1;
    private IReadOnlyList<SchemaEntry> _catalogSchemas = [];
    private IReadOnlyList<SchemaEntry> _configuredPending;
    private volatile SchemaSnapshot _schemas;

    /// <param name="admission">This node's admission, told every change of the schemas (none: the schemas are only read here).</param>
    /// <param name="configured">This node's configured schemas (ContextLake:Schemas), enforced until the catalog has them.</param>
    public ViewCatalog(EventAdmission? admission = null, IReadOnlyList<SchemaEntry>? configured = null)
    {
        _admission = admission;
        _configuredPending = configured ?? [];
        _schemas = Enforce(SchemaSnapshot.Of(_configuredPending));
    }

    /// <summary>The schemas this node enforces now (the catalog's; before it has this node's configured ones, those too).</summary>
    public SchemaSnapshot Schemas => _schemas;

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
            // Most publications are view changes (backfill progress): the snapshot is rebuilt only when the schemas changed.
            var schemas = state.Schemas ?? [];
            if (schemas.Count != _catalogSchemas.Count || schemas.Where((schema, i) => !schema.SameAs(_catalogSchemas[i])).Any())
            {
                _catalogSchemas = schemas;
                RefreshSchemas();
            }
            Interlocked.Exchange(ref _nextIncarnation, state.NextIncarnation);
            Interlocked.Exchange(ref _version, state.Version);
        }
    }

    /// <summary>
    /// The catalog has this node's configured schemas (or another declaration of their types) as of a version this replica
    /// has reached: from now on only the catalog's schemas count, so a configured type deleted over the API is not enforced.
    /// </summary>
    public void ConfiguredSchemasInCatalog()
    {
        lock (_gate)
        {
            _configuredPending = [];
            RefreshSchemas();
        }
    }

    private void RefreshSchemas()
    {
        var inCatalog = _catalogSchemas.Select(s => s.Type).ToHashSet(StringComparer.Ordinal);
        var schemas = _catalogSchemas.Concat(_configuredPending.Where(s => !inCatalog.Contains(s.Type)));
        _schemas = Enforce(SchemaSnapshot.Of(schemas));
    }

    private SchemaSnapshot Enforce(SchemaSnapshot schemas)
    {
        _admission?.Declare(schemas.ByType.Values.Select(s => (s.Type, s.Fields, s.Strict)));
        return schemas;
    }
}
