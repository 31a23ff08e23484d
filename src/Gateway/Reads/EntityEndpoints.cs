// GET /v1/entities/{type}/{id}: one entity's state. Until epochs exist the answer is the latest
// journaled state and "epoch" is null; the field keeps its place in the contract.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Reads;

public sealed record LastEventDoc(string Stream, long Offset, DateTimeOffset Time, JsonElement Data);

public sealed record EventHistoryDoc(long Count, LastEventDoc? Last);

public sealed record EntityResponse(
    object? Epoch,
    string Type,
    string Id,
    bool Exists,
    IReadOnlyDictionary<string, JsonElement> State,
    EventHistoryDoc Events,
    IReadOnlyDictionary<string, long> Applied);

public static class EntityEndpoints
{
    public static void MapEntityEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/entities/{type}/{id}", GetEntity)
            .WithName("GetEntity")
            .WithSummary("Read one entity's state and history summary.")
            .Produces<EntityResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> GetEntity(
        string type, string id, NodeOptions options, IRequiredActor<EntityRegion> region, CancellationToken cancel)
    {
        if (!EntityKey.IsValidType(type))
            return Problem.BadRequest("Invalid entity address", $"type '{type}' must be 1 to 64 letters, digits, '_', '-' or '.'").ToResult();
        if (id.Length > EntityKey.MaxIdLength)
            return Problem.BadRequest("Invalid entity address", $"id must be at most {EntityKey.MaxIdLength} characters").ToResult();

        try
        {
            var r = await region.ActorRef.Ask<EntityReadResult>(new GetEntity(new EntityKey(type, id)), options.Http.ReadTimeout, cancel);
            var last = r.LastEvent is { } e ? new LastEventDoc(e.Stream, e.Offset, e.EventTime, e.Data) : null;
            return Results.Ok(new EntityResponse(null, type, id, r.Exists, r.State, new EventHistoryDoc(r.EventCount, last), r.Positions));
        }
        catch (AskTimeoutException)
        {
            return new Problem(StatusCodes.Status503ServiceUnavailable, "Entity not reachable",
                $"entity {type}/{id} did not answer within {options.Http.ReadTimeout.TotalSeconds:0.#}s (setting ContextLake:Http:ReadTimeout)").ToResult();
        }
    }
}
