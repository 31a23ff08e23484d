// Creates the views named in configuration (ContextLake:Views) when the catalog does not have them yet, and
// remembers which catalog entries those are, so /readyz can wait until this node answers every one of them.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Catalog;
using ContextLake.Views.Sql;

namespace ContextLake.Gateway.Views;

public sealed class ConfiguredViews(NodeOptions options, ActorRegistry registry, ILogger<ConfiguredViews> log) : BackgroundService
{
    private volatile IReadOnlyList<(string Name, long Incarnation)>? _ensured;

    /// <summary>
    /// The configured views that this node does not answer yet (not in its catalog, or still backfilling), or null once
    /// it answers them all. A configured view dropped since counts as answered: dropping it is the user's call.
    /// </summary>
    public IReadOnlyList<string>? NotAnswered(ViewCatalog catalog)
    {
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
        var ensured = new List<(string, long)>();
        foreach (var sql in options.Views)
        {
            var definition = ViewSql.Parse(sql);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var reply = await catalog.Ask<ViewCatalogReply>(new CreateView(definition.Sql, definition.Name), TimeSpan.FromSeconds(5), stop);
                    if (reply.Refusal is not null && reply.View is { } existing && existing.Sql != definition.Sql)
                        log.LogWarning("view {View} exists with another definition; the configured one is not applied: drop it to replace it", definition.Name);
                    if (reply.Refusal is not null && reply.View is null)
                        log.LogError("the configured view {View} is refused and not created: {Reason}", definition.Name, reply.Refusal);
                    if (reply.View is { } entry) ensured.Add((entry.Name, entry.Incarnation));
                    break;
                }
                catch (AskTimeoutException)
                {
                    log.LogInformation("waiting for the view catalog to create view {View}", definition.Name);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // Anything else (the catalog failed the request, or was being started again after a journal failure):
                    // ask again, since /readyz waits for these views and giving up would keep the node unready for good.
                    log.LogWarning(ex, "the view catalog did not create view {View}; asking again", definition.Name);
                    await Task.Delay(TimeSpan.FromSeconds(1), stop);
                }
            }
        }
        _ensured = ensured;
    }
}
