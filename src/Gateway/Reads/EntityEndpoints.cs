// GET /v1/entities/{type}/{id} and GET /v1/views/{view}/{key}: single reads at one epoch.
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Reads;

public sealed record EntityResponse(EpochDoc Epoch, string Type, string Id, bool Exists,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement> State, EventHistoryDoc Events, IReadOnlyDictionary<string, long> Applied);

public sealed record ViewKeyResponse(EpochDoc Epoch, DateTimeOffset At, string View, string Key,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement> Values, WindowDoc? Window, long? Late);

public static class EntityEndpoints
{
    public static void MapEntityEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/entities/{type}/{id}", GetEntity)
            .WithName("GetEntity")
            .WithSummary("Read one entity at one epoch (epoch=N, after=STREAM@OFFSET, consistency=stale-ok).")
            .Produces<EntityResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        app.MapGet("/v1/views/{view}/{key}", GetViewKey)
            .WithName("GetViewKey")
            .WithSummary("Read one group key of a view at one epoch; window=10m aggregates a recent span.")
            .Produces<ViewKeyResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
    }

    private static async Task<IResult> GetEntity(string type, string id, HttpRequest request, StateReader reader,
        EpochClock clock, NodeOptions options, CancellationToken cancel)
    {
        var (point, problem) = await ReadPoints.ResolveQueryAsync(request, clock, options, cancel);
        if (problem is not null) return problem.ToResult();
        var (doc, readProblem) = await reader.ReadEntityAsync(type, id, point!, $"entity {type}/{id}", cancel);
        return readProblem is not null
            ? readProblem.ToResult()
            : Results.Ok(new EntityResponse(point!.ToDoc(), doc!.Type, doc.Id, doc.Exists, doc.State, doc.Events, doc.Applied));
    }

    private static async Task<IResult> GetViewKey(string view, string key, HttpRequest request, StateReader reader,
        EpochClock clock, NodeOptions options, CancellationToken cancel)
    {
        var (point, problem) = await ReadPoints.ResolveQueryAsync(request, clock, options, cancel);
        if (problem is not null) return problem.ToResult();
        var (doc, readProblem) = await reader.ReadViewAsync(view, key, request.Query["window"].FirstOrDefault(), point!, $"view {view}", cancel);
        return readProblem is not null
            ? readProblem.ToResult()
            : Results.Ok(new ViewKeyResponse(point!.ToDoc(), point.At, doc!.View, doc.Key, doc.Values, doc.Window, doc.Late));
    }
}
