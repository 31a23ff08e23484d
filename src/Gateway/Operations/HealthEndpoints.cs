// /healthz (the process answers) and /readyz (cluster member Up, journal reachable, write log answering,
// the committed epoch and the view catalog known on this node, epochs advancing, stream lag within bound).
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Http;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using ContextLake.Views.Catalog;

namespace ContextLake.Gateway.Operations;

public sealed record ReadinessDoc(bool Ready, bool ClusterUp, bool JournalReachable, bool WriteLogAnswering, bool EpochKnown, bool ViewsKnown,
    bool EpochAdvancing, bool LagWithinBound, long Epoch, long? Applied, IReadOnlyList<string> Problems);

public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "alive" })).WithName("Health");
        app.MapGet("/readyz", Ready).WithName("Ready").Produces<ReadinessDoc>().Produces<ReadinessDoc>(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> Ready(
        ActorSystem system, JournalDatabase journal, EpochClock clock, ViewCatalog catalog, NodeOptions options,
        IRequiredActor<HttpWriteLogKey> writeLog, IRequiredActor<EpochCoordinatorKey> coordinator, CancellationToken cancel)
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

        // Epoch advancing and lag within bound, from the coordinator's view of every stream.
        var problems = new List<string>();
        try
        {
            var positions = await coordinator.ActorRef.Ask<StreamPositions>(GetStreamPositions.Instance, TimeSpan.FromSeconds(2), cancel);
            foreach (var (stream, read) in positions.Read)
            {
                var lag = read - positions.Latest[stream];
                if (lag > 0 && positions.LaggingSince.TryGetValue(stream, out var since) && DateTimeOffset.UtcNow - since > options.Health.EpochStallAfter)
                    problems.Add($"stream {stream} has had {lag} uncommitted offsets for {(DateTimeOffset.UtcNow - since).TotalSeconds:0} s without an epoch committing them (setting ContextLake:Health:EpochStallAfter)");
                if (options.Health.MaxStreamLag > 0 && lag > options.Health.MaxStreamLag)
                    problems.Add($"stream {stream} lags by {lag} offsets, more than {options.Health.MaxStreamLag} (setting ContextLake:Health:MaxStreamLag)");
            }
        }
        catch (AskTimeoutException)
        {
            problems.Add("the epoch coordinator did not answer within 2 s");
        }
        var advancing = !problems.Any(p => p.Contains("without an epoch") || p.Contains("coordinator"));
        var lagOk = !problems.Any(p => p.Contains("MaxStreamLag"));
        var doc = new ReadinessDoc(clusterUp && journalOk && position is not null && clock.Known && viewsKnown && problems.Count == 0,
            clusterUp, journalOk, position is not null, clock.Known, viewsKnown, advancing, lagOk, clock.Latest.N, position?.Applied, problems);
        return doc.Ready ? Results.Ok(doc) : Results.Json(doc, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
