// Registers the connector manager singleton and this node's runner of the connectors that run on every node.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;

namespace ContextLake.Connectors.Framework;

public static class ConnectorHosting
{
    public static AkkaConfigurationBuilder WithConnectors(this AkkaConfigurationBuilder builder, NodeOptions options,
        EpochClock clock, ConnectorTypes types, DeadLetterStore deadLetters, EventAdmission admission) =>
        builder.WithSingleton<ConnectorManagerKey>(
            "connector-manager",
            (system, registry, _) =>
            {
                var runs = PlatformHosting.StreamRuns(registry, options);
                return JournaledSingleton.Props(Props.Create(() =>
                    new ConnectorManager(types, name => new ConnectorContext(name, system, runs, clock, deadLetters, admission))), "manager");
            },
            new ClusterSingletonOptions())
        .WithActors((system, registry) =>
        {
            var runs = PlatformHosting.StreamRuns(registry, options);
            var manager = registry.Get<ConnectorManagerKey>();
            system.ActorOf(Props.Create(() => new ConnectorNodeRunner(types,
                name => new ConnectorContext(name, system, runs, clock, deadLetters, admission), manager)), "connector-runner");
        });
}
