// POST /v1/events: a batch of events into the stream "http:writes", answered once all of it is journaled.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Http;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Hosting;
using Microsoft.AspNetCore.Http.Features;

namespace ContextLake.Gateway.Writes;

public sealed record WriteResponse(string Stream, long First, long Last, IReadOnlyList<long> Offsets, int Written);

/// <summary>The documented request shape (the parser reads the body itself to name faults precisely).</summary>
public sealed record WriteRequestDoc(IReadOnlyList<WriteEventDoc> Events);

public sealed record WriteEventDoc(string Type, string Id, string? Kind, DateTimeOffset? Time, string? Key, System.Text.Json.JsonElement? Data);

public static class WriteEndpoints
{
    public static void MapWriteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", PostEvents)
            .WithName("WriteEvents")
            .WithSummary("Append a batch of events to http:writes; all or nothing; answered once durable.")
            .DocumentsBody<WriteRequestDoc>()
            .Produces<WriteResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> PostEvents(
        HttpContext http, NodeOptions options, IRequiredActor<HttpWriteLogKey> writeLog, CancellationToken cancel)
    {
        var request = http.Request;
        if (!IsJson(request.ContentType))
            return new Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"the body must be application/json, not '{request.ContentType ?? "(none)"}'").ToResult();

        var limit = options.Http.MaxBodyBytes;
        if (request.ContentLength > limit)
            return TooLarge(request.ContentLength.Value, limit);

        byte[] body;
        try
        {
            body = await ReadBodyAsync(request, cancel);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(null, limit);
        }

        var (writes, problem) = new WriteRequestParser(options.Http.MaxBatchEvents, options.Limits.MaxEventBytes).Parse(body, DateTimeOffset.UtcNow);
        if (problem is not null) return problem.ToResult();

        try
        {
            var appended = await writeLog.ActorRef.Ask<WritesAppended>(new AppendWrites(writes!), options.Http.WriteTimeout, cancel);
            return Results.Ok(new WriteResponse(appended.Stream, appended.First, appended.Last, appended.Offsets, appended.Written));
        }
        catch (AskTimeoutException)
        {
            return new Problem(StatusCodes.Status503ServiceUnavailable, "Write not confirmed",
                $"the batch was not confirmed within {options.Http.WriteTimeout.TotalSeconds:0.#}s (setting ContextLake:Http:WriteTimeout); " +
                "it may or may not be journaled: send it again with the same idempotency keys").ToResult();
        }
        catch (WriteLogFullException ex)
        {
            http.Response.Headers.RetryAfter = "1";
            return new Problem(StatusCodes.Status429TooManyRequests, "Ingest saturated", ex.Message).ToResult();
        }
        catch (JournalUnavailableException ex)
        {
            return new Problem(StatusCodes.Status503ServiceUnavailable, "Journal unavailable",
                $"nothing of this batch was written: {ex.Message}").ToResult();
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
