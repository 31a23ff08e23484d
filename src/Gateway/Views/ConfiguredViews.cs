// Puts the schemas named in configuration (ContextLake:Schemas) in the catalog when it has none for their types, then
// creates the views named in configuration (ContextLake:Views) when the catalog does not have them yet (in that order:
// the catalog checks a view against its schemas), and remembers which catalog entries those views are, so /readyz can
// wait until this node answers every one of them. A configured schema or view the catalog has in another form stays as
// the catalog has it (changed at run time); one deleted or dropped at run time is put back at the next start.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Catalog;
using ContextLake.Views.Sql;

namespace ContextLake.Gateway.Views;

public sealed class ConfiguredViews(NodeOptions options, ActorRegistry registry, ViewCatalog replica, ILogger<ConfiguredViews> log) : BackgroundService
{
    private volatile IReadOnlyList<(string Name, long Incarnation)>? _ensured;
    private volatile bool _schemasInCatalog;

    /// <summary>
    /// The configured views that this node does not answer yet (not in its catalog, or still backfilling), or null once
    /// it answers them all. A configured view dropped since counts as answered: dropping it is the user's call. Before
    /// that, the configured schemas must be in the catalog (a view created over HTTP is checked against the catalog's).
    /// </summary>
    public IReadOnlyList<string>? NotAnswered(ViewCatalog catalog)
    {
        if (options.Schemas.Count > 0 && !_schemasInCatalog) return ["the configured schemas are not in the view catalog yet"];
        if (options.Views.Count == 0) return null;
        if (_ensured is not { } ensured) return ["the configured views are not created yet"];
        var missing = ensured.Where(v => catalog.Find(v.Name, v.Incarnation) is not { Ready: true } && !catalog.IsGone(v.Name, v.Incarnation))
            .Select(v => v.Name).ToList();
        return missing.Count == 0 ? null : missing;
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        // The actor system starts beside this service: wait for the catalog's proxy to be registered.
        var catalog = await registry.GetAsync<ViewCatalogKey>(stop);
        await EnsureSchemasAsync(catalog, stop);
        var ensured = new List<(string, long)>();
        foreach (var sql in options.Views)
        {
            var definition = ViewSql.Parse(sql);
            if (await AskCatalogAsync<ViewCatalogReply>(catalog, new CreateView(definition.Sql, definition.Name), $"create view {definition.Name}", stop)
                is not { } reply) return;
            if (reply.Refusal is not null && reply.View is { } existing && existing.Sql != definition.Sql)
                log.LogWarning("view {View} exists with another definition; the configured one is not applied: drop it to replace it", definition.Name);
            if (reply.Refusal is not null && reply.View is null)
                log.LogError("the configured view {View} is refused and not created: {Reason}", definition.Name, reply.Refusal);
            if (reply.View is { } entry) ensured.Add((entry.Name, entry.Incarnation));
        }
        _ensured = ensured;
    }

    private async Task EnsureSchemasAsync(IActorRef catalog, CancellationToken stop)
    {
        var version = -1L;
        foreach (var schema in SchemaEntry.Configured(options))
        {
            if (await AskCatalogAsync<SchemaCatalogReply>(catalog, new PutSchema(schema, OnlyIfAbsent: true), $"declare the schema of {schema.Type}", stop)
                is not { } reply) return;
            if (reply.Schema is { } existing && !existing.SameAs(schema))
                log.LogWarning("the schema of {Type} exists in another form (declared at run time); the configured one is not applied", schema.Type);
            version = Math.Max(version, reply.Version);
        }
        // Until this node's replica holds them, the configured schemas are enforced from configuration.
        while (replica.Version < version && !stop.IsCancellationRequested) await Task.Delay(10, stop);
        replica.ConfiguredSchemasInCatalog();
        _schemasInCatalog = true;
    }

    /// <summary>
    /// The catalog's answer to <paramref name="request"/>, asked again until it comes (null once the node stops): /readyz
    /// waits for what is asked here, so giving up after a timeout, or after the catalog failed the request while it was
    /// started again after a journal failure, would keep the node unready for good.
    /// </summary>
    private async Task<T?> AskCatalogAsync<T>(IActorRef catalog, object request, string what, CancellationToken stop) where T : class
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                return await catalog.Ask<T>(request, TimeSpan.FromSeconds(5), stop);
            }
            catch (AskTimeoutException)
            {
                log.LogInformation("waiting for the view catalog to {What}", what);
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                log.LogWarning(ex, "the view catalog did not {What}; asking again", what);
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
        }
        return null;
    }
}
