// Creates the views named in configuration (ContextLake:Views) when the catalog does not have them yet.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Catalog;
using ContextLake.Views.Sql;

namespace ContextLake.Gateway.Views;

public sealed class ConfiguredViews(NodeOptions options, ActorRegistry registry, ILogger<ConfiguredViews> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        // The actor system starts beside this service: wait for the catalog's proxy to be registered.
        var catalog = await registry.GetAsync<ViewCatalogKey>(stop);
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
                    break;
                }
                catch (AskTimeoutException)
                {
                    log.LogInformation("waiting for the view catalog to create view {View}", definition.Name);
                }
            }
        }
    }
}
