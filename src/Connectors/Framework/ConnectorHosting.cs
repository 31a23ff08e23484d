// Registers the connector manager singleton and this node's runner of the connectors that run on every node.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Catalog;
using ContextLake.Views.Hosting;

namespace ContextLake.Connectors.Framework;

public static class ConnectorHosting
{
    public static AkkaConfigurationBuilder WithConnectors(this AkkaConfigurationBuilder builder, NodeOptions options,
        ViewCatalog catalog, EpochClock clock, ConnectorTypes types, DeadLetterStore deadLetters) =>
        builder.WithSingleton<ConnectorManagerKey>(
            "connector-manager",
            (system, registry, _) =>
            {
                var applier = ViewsHosting.CreateStreamApplier(system, registry, options, catalog);
                return Props.Create(() => new ConnectorManager(types, system, applier, clock, deadLetters));
            },
            new ClusterSingletonOptions())
        .WithActors((system, registry) =>
        {
            var applier = ViewsHosting.CreateStreamApplier(system, registry, options, catalog);
            var manager = registry.Get<ConnectorManagerKey>();
            system.ActorOf(Props.Create(() => new ConnectorNodeRunner(types,
                name => new ConnectorContext(name, system, applier, clock, deadLetters), manager)), "connector-runner");
        });
}
