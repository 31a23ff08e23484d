// /healthz (the process answers) and /readyz (cluster member Up, journal reachable, write log answering,
// the committed epoch and the view catalog known on this node).
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Http;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Journal;
using ContextLake.Views.Catalog;

namespace ContextLake.Gateway.Operations;

public sealed record ReadinessDoc(bool Ready, bool ClusterUp, bool JournalReachable, bool WriteLogAnswering, bool EpochKnown, bool ViewsKnown, long Epoch, long? Applied);

public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "alive" })).WithName("Health");
        app.MapGet("/readyz", Ready).WithName("Ready").Produces<ReadinessDoc>().Produces<ReadinessDoc>(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> Ready(
        ActorSystem system, JournalDatabase journal, EpochClock clock, ViewCatalog catalog, IRequiredActor<HttpWriteLogKey> writeLog, CancellationToken cancel)
    {
        var clusterUp = Akka.Cluster.Cluster.Get(system).SelfMember.Status == Akka.Cluster.MemberStatus.Up;
        var journalOk = await journal.IsReachableAsync(cancel);
        WriteLogPosition? position = null;
        try
        {
            position = await writeLog.ActorRef.Ask<WriteLogPosition>(GetWriteLogPosition.Instance, TimeSpan.FromSeconds(2), cancel);
        }
        catch (AskTimeoutException)
        {
        }

        var viewsKnown = catalog.Version >= 0;
        var doc = new ReadinessDoc(clusterUp && journalOk && position is not null && clock.Known && viewsKnown,
            clusterUp, journalOk, position is not null, clock.Known, viewsKnown, clock.Latest.N, position?.Applied);
        return doc.Ready ? Results.Ok(doc) : Results.Json(doc, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
