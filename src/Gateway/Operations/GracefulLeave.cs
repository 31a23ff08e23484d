// Graceful leave on SIGTERM, in an order that loses nothing acknowledged: first the node drains (every new
// request but /healthz gets 503 with Retry-After, so /readyz fails at once) for Cluster:DrainPeriod; then
// Kestrel stops, finishing in-flight requests (a write answers only once journaled); then Akka.Hosting runs
// CoordinatedShutdown: shard regions hand their shards off, singletons move to the next oldest node, and
// the node leaves the cluster. Kestrel is the last hosted service registered, so it stops before Akka.
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Operations;

/// <summary>Set once the host begins stopping; from then on this node refuses new requests.</summary>
public sealed class NodeDrain
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public void Begin() => _draining = true;
}

public static class GracefulLeave
{
    /// <summary>The host's shutdown budget: the drain, the longest in-flight write, and CoordinatedShutdown's own phases.</summary>
    public static TimeSpan ShutdownTimeout(NodeOptions options) =>
        options.Cluster.DrainPeriod + options.Http.WriteTimeout + TimeSpan.FromSeconds(30);

    public static void UseGracefulLeave(this WebApplication app, NodeOptions options)
    {
        var drain = app.Services.GetRequiredService<NodeDrain>();
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            drain.Begin();
            app.Logger.LogInformation("ContextLake node stopping: refusing new requests for {Drain}, then leaving the cluster", options.Cluster.DrainPeriod);
            // ApplicationStopping runs before any hosted service stops: Kestrel keeps answering (503) meanwhile.
            Thread.Sleep(options.Cluster.DrainPeriod);
        });

        var retryAfter = Math.Max(1, (int)Math.Ceiling(options.Cluster.DrainPeriod.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        app.Use(async (context, next) =>
        {
            if (!drain.Draining || context.Request.Path.StartsWithSegments("/healthz"))
            {
                await next(context);
                return;
            }
            context.Response.Headers.RetryAfter = retryAfter;
            await new Problem(StatusCodes.Status503ServiceUnavailable, "Node leaving the cluster",
                    "this node received SIGTERM and is handing its work to the other nodes; send the request to another node")
                .ToResult().ExecuteAsync(context);
        });
    }
}
