// /healthz (the process answers) and /readyz (cluster member Up, journal reachable, every write stream answering,
// the committed epoch and the view catalog known on this node, every configured view in it and caught
// up, so the first read or subscription after 200 finds it, every state partition started and
// recovered, epochs advancing, stream lag within bound).
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Http;
using ContextLake.Gateway.Views;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;

namespace ContextLake.Gateway.Operations;

public sealed record ReadinessDoc(bool Ready, bool ClusterUp, bool JournalReachable, bool WriteLogAnswering, bool EpochKnown, bool ViewsKnown,
    bool PartitionsStarted, bool EpochAdvancing, bool LagWithinBound, long Epoch, long? Applied, IReadOnlyList<string> Problems);

public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "alive" })).WithName("Health");
        app.MapGet("/readyz", Ready).WithName("Ready").Produces<ReadinessDoc>().Produces<ReadinessDoc>(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> Ready(
        ActorSystem system, JournalDatabase journal, EpochClock clock, ViewCatalog catalog, ConfiguredViews configured, NodeOptions options,
        WriteStreams writeStreams, IRequiredActor<EpochCoordinatorKey> coordinator, IRequiredActor<PartitionKeeperKey> keeper,
        CancellationToken cancel)
    {
        var clusterUp = Akka.Cluster.Cluster.Get(system).SelfMember.Status == Akka.Cluster.MemberStatus.Up;
        var journalOk = await journal.IsReachableAsync(cancel);
        // Every write stream has answered the node's keeper lately (it greets them every 2 s, wherever they run).
        var writesMissing = writeStreams.Missing(DateTime.UtcNow);
        var writesAnswering = writesMissing.Count == 0;

        var notAnswered = catalog.Version >= 0 ? configured.NotAnswered(catalog) : ["the view catalog is not known on this node yet"];
        var viewsKnown = notAnswered is null;
        PartitionKeeper.Status? partitions = null;
        try
        {
            partitions = await keeper.ActorRef.Ask<PartitionKeeper.Status>(PartitionKeeper.GetStatus.Instance, TimeSpan.FromSeconds(2), cancel);
        }
        catch (AskTimeoutException)
        {
        }
        var partitionsStarted = partitions is { Missing.Count: 0 };

        // Epoch advancing and lag within bound, from the coordinator's view of every stream.
        StreamJudgement streams;
        try
        {
            var positions = await coordinator.ActorRef.Ask<StreamPositions>(GetStreamPositions.Instance, TimeSpan.FromSeconds(2), cancel);
            streams = StreamJudgement.Of(positions, options.Health, DateTimeOffset.UtcNow);
        }
        catch (AskTimeoutException)
        {
            streams = new StreamJudgement(false, true, ["the epoch coordinator did not answer within 2 s"]);
        }
        var problems = streams.Problems.ToList();
        if (!journalOk) problems.Add("the journal does not answer SELECT 1 (setting ContextLake:Journal)");
        if (!partitionsStarted)
            problems.Add(partitions is null
                ? "the partition keeper did not answer within 2 s"
                : $"{partitions.Missing.Count} state partitions have not answered yet (recovering or moving): {string.Join(", ", partitions.Missing.Take(8))}{(partitions.Missing.Count > 8 ? ", …" : "")}");
        if (!writesAnswering)
            problems.Add($"{writesMissing.Count} HTTP write streams have not answered within {WriteStreams.Forget.TotalSeconds:0} s (recovering or moving): " +
                         $"{string.Join(", ", writesMissing.Take(8))}{(writesMissing.Count > 8 ? ", …" : "")}");
        if (notAnswered is not null) problems.Add($"configured views this node does not answer yet (creating or backfilling): {string.Join(", ", notAnswered)}");
        var advancing = streams.EpochAdvancing;
        var lagOk = streams.LagWithinBound;
        var doc = new ReadinessDoc(clusterUp && journalOk && writesAnswering && clock.Known && viewsKnown && partitionsStarted && advancing && lagOk,
            clusterUp, journalOk, writesAnswering, clock.Known, viewsKnown, partitionsStarted, advancing, lagOk, clock.Latest.N,
            writesAnswering ? writeStreams.Applied : null, problems);
        return doc.Ready ? Results.Ok(doc) : Results.Json(doc, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

/// <summary>
/// The stream checks of /readyz, judged from the coordinator's positions: a stream that has read past its
/// committed offset for longer than EpochStallAfter means epochs are not advancing; one whose uncommitted
/// lag exceeds MaxStreamLag (when set) is over its bound. Each problem names the stream and the setting.
/// </summary>
public sealed record StreamJudgement(bool EpochAdvancing, bool LagWithinBound, IReadOnlyList<string> Problems)
{
    public static StreamJudgement Of(StreamPositions positions, HealthOptions health, DateTimeOffset now)
    {
        var problems = new List<string>();
        bool advancing = true, lagOk = true;
        foreach (var (stream, read) in positions.Read)
        {
            var lag = read - positions.Latest[stream];
            if (lag > 0 && positions.LaggingSince.TryGetValue(stream, out var since) && now - since > health.EpochStallAfter)
            {
                advancing = false;
                problems.Add($"stream {stream} has had {lag} uncommitted offsets for {(now - since).TotalSeconds:0} s without an epoch committing them (setting ContextLake:Health:EpochStallAfter)");
            }
            if (health.MaxStreamLag > 0 && lag > health.MaxStreamLag)
            {
                lagOk = false;
                problems.Add($"stream {stream} lags by {lag} offsets, more than {health.MaxStreamLag} (setting ContextLake:Health:MaxStreamLag)");
            }
        }
        return new StreamJudgement(advancing, lagOk, problems);
    }
}
