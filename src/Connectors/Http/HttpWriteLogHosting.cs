// Registers the HTTP write log as a cluster singleton (one writer of "http:writes" in the cluster),
// started again when its journal fails (JournaledSingleton).
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Connectors.Http;

/// <summary>Key under which the write log's singleton proxy is registered.</summary>
public sealed class HttpWriteLogKey;

public static class HttpWriteLogHosting
{
    public static AkkaConfigurationBuilder WithHttpWriteLog(this AkkaConfigurationBuilder builder, NodeOptions options, EpochClock clock)
    {
        builder.AddHocon(EmbeddedHocon.Load(typeof(HttpWriteLog).Assembly, "ContextLake.Connectors.connectors.conf"), HoconAddMode.Prepend);
        return builder.WithSingleton<HttpWriteLogKey>(
            "http-write-log",
            (_, registry, _) =>
            {
                var runs = PlatformHosting.StreamRuns(registry, options);
                var child = Props.Create(() => new HttpWriteLog(runs, options.Writes, clock));
                return JournaledSingleton.Props(child, "log");
            },
            new ClusterSingletonOptions());
    }
}
