// POST /v1/events: a batch of events into one HTTP write stream (WriteStreams.Route: by its first idempotency key, else
// one this node hosts), answered once all of it is journaled and applied and, by default, once an epoch commits it
// (read-your-writes on this node without `after`): the answer names the stream, the offsets and that epoch. `wait=applied`
// answers at application instead, a publish interval or so sooner. Past the stream's bound (its share of
// Writes:MaxPendingEvents) a batch answers 429 with Retry-After, at once while the SaturationGate is shut.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Http;
using ContextLake.Connectors.Serialization;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using Microsoft.AspNetCore.Http.Features;

namespace ContextLake.Gateway.Writes;

/// <param name="Epoch">The first epoch that commits the whole batch; null when the answer came at application (`wait=applied`,
/// or a 202 whose epoch did not come within the write timeout).</param>
public sealed record WriteResponse(string Stream, long First, long Last, IReadOnlyList<long> Offsets, int Written, EpochDoc? Epoch);

/// <summary>The documented request shape (the parser reads the body itself to name faults precisely).</summary>
public sealed record WriteRequestDoc(IReadOnlyList<WriteEventDoc> Events);

public sealed record WriteEventDoc(string Type, string Id, string? Kind, DateTimeOffset? Time, string? Key, System.Text.Json.JsonElement? Data);

public static class WriteEndpoints
{
    public static void MapWriteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", PostEvents)
            .WithName("WriteEvents")
            .WithSummary("Append a batch of events to an HTTP write stream (http:writes, or http:writes/k of several); all or nothing; answered once an epoch commits it (wait=applied: once applied).")
            .DocumentsBody<WriteRequestDoc>()
            .Produces<WriteResponse>()
            .Produces<WriteResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> PostEvents(
        HttpContext http, NodeOptions options, EventAdmission admission, WriteStreams streams, IRequiredActor<WriteStreamRegion> writeLog, EpochClock clock,
        SaturationGate gate, CancellationToken cancel)
    {
        var request = http.Request;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var wait = request.Query["wait"].FirstOrDefault() ?? "committed";
        if (wait is not ("committed" or "applied"))
            return Problem.BadRequest("Invalid query", $"wait '{wait}' is not one of committed (the default: answer once an epoch commits the batch), applied").ToResult();
        if (!IsJson(request.ContentType))
            return new Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"the body must be application/json, not '{request.ContentType ?? "(none)"}'").ToResult();

        var limit = options.Http.MaxBodyBytes;
        if (request.ContentLength > limit)
            return TooLarge(request.ContentLength.Value, limit);
        if (gate.Saturated)
            return Saturated(http, "nothing of this batch was written: a write stream refused a batch less than " +
                                   $"{SaturationGate.Window.TotalMilliseconds:0} ms ago, as it holds as many accepted events not applied yet as it may " +
                                   "(setting ContextLake:Writes:MaxPendingEvents); ingest is saturated, send it again after Retry-After");

        byte[] body;
        try
        {
            body = await ReadBodyAsync(request, cancel);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(null, limit);
        }

        var (writes, problem) = new WriteRequestParser(options.Http.MaxBatchEvents, admission).Parse(body, DateTimeOffset.UtcNow);
        if (problem is not null) return problem.ToResult();

        try
        {
            var reply = await writeLog.ActorRef.Ask<IConnectorMessage>(new AppendWrites(WriteStreams.Id(streams.Route(writes!)), writes!), options.Http.WriteTimeout, cancel);
            if (reply is WritesRefused refused)
            {
                if (refused.Reason == WriteRefusal.Saturated)
                {
                    gate.Refused();
                    return Saturated(http, refused.Detail);
                }
                return new Problem(StatusCodes.Status503ServiceUnavailable, "Journal unavailable", refused.Detail).ToResult();
            }
            var appended = (WritesAppended)reply;
            var answer = new WriteResponse(appended.Stream, appended.First, appended.Last, appended.Offsets, appended.Written, null);
            if (wait == "applied") return Results.Ok(answer);
            var left = options.Http.WriteTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            try
            {
                var stream = appended.Stream;
                var last = appended.Last;
                var epoch = await clock.WaitAsync(e => e[stream] >= last, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancel);
                return Results.Ok(answer with { Epoch = new EpochDoc(epoch.N, epoch.Vector, epoch.CommittedAt, null) });
            }
            catch (TimeoutException)
            {
                // Durable and applied, so it will be committed: say so, and how to wait for it.
                return Results.Json(answer, statusCode: StatusCodes.Status202Accepted);
            }
        }
        catch (AskTimeoutException)
        {
            return new Problem(StatusCodes.Status503ServiceUnavailable, "Write not confirmed",
                $"the batch was not confirmed within {options.Http.WriteTimeout.TotalSeconds:0.#}s (setting ContextLake:Http:WriteTimeout); " +
                "it may or may not be journaled: send it again with the same idempotency keys").ToResult();
        }
    }

    /// <summary>The whole body in one array of its declared length (read in place, not grown and copied), or buffered when no length was sent.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancel)
    {
        if (request.ContentLength is { } length)
        {
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, cancel);
            return body;
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancel);
        return buffer.ToArray();
    }

    private static IResult Saturated(HttpContext http, string detail)
    {
        http.Response.Headers.RetryAfter = "1";
        return new Problem(StatusCodes.Status429TooManyRequests, "Ingest saturated", detail).ToResult();
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null &&
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media) &&
        (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
         media.MediaType.Value!.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static IResult TooLarge(long? length, long limit) =>
        new Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
            (length is { } n ? $"the body has {n} bytes" : "the body is larger than allowed") +
            $"; at most {limit} bytes are accepted (setting ContextLake:Http:MaxBodyBytes)").ToResult();
}
