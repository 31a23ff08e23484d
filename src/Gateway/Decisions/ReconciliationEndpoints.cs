// The reconciliation API: start a job over the decisions recorded in a time range (202 with the job and its
// Location), follow its progress, list the jobs kept, cancel a running one, and check one decision at once.
// Outcomes and states are written as words ("changed", "notCheckable", "running"), not as numbers.
using System.Text.Json;
using System.Text.Json.Serialization;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using Microsoft.Extensions.Options;

namespace ContextLake.Gateway.Decisions;

/// <summary>The body of POST /v1/reconciliations: the decisions recorded at or after <see cref="From"/> and before <see cref="To"/>.</summary>
public sealed record ReconciliationRequestDoc(DateTimeOffset From, DateTimeOffset To);

public static class ReconciliationEndpoints
{
    private const string Example = "an ISO-8601 time such as 2025-01-31T09:00:00Z";

    public static void MapReconciliationEndpoints(this IEndpointRouteBuilder app)
    {
        var json = new JsonSerializerOptions(app.ServiceProvider.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions);
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));

        app.MapPost("/v1/reconciliations", (HttpRequest request, Reconciliations jobs, DecisionOptions options, CancellationToken cancel) =>
                StartAsync(request, jobs, options, json, cancel))
            .WithName("StartReconciliation")
            .WithSummary("Start a job that reconciles the decisions recorded in [from, to) against the journal.")
            .DocumentsBody<ReconciliationRequestDoc>()
            .Produces<ReconciliationDoc>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        app.MapGet("/v1/reconciliations", (Reconciliations jobs) => Results.Json(jobs.Jobs.Select(j => j.ToDoc()), json))
            .WithName("ListReconciliations")
            .WithSummary("The reconciliation jobs this node keeps in memory, newest first.")
            .Produces<IEnumerable<ReconciliationDoc>>();
        app.MapGet("/v1/reconciliations/{id}", (string id, Reconciliations jobs) =>
                jobs.Find(id) is { } job ? Results.Json(job.ToDoc(), json) : UnknownJob(id).ToResult())
            .WithName("GetReconciliation")
            .WithSummary("A reconciliation job: its state, progress, counts, delta rate, throughput and the differing decisions.")
            .Produces<ReconciliationDoc>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapDelete("/v1/reconciliations/{id}", (string id, Reconciliations jobs, CancellationToken cancel) => CancelAsync(id, jobs, json, cancel))
            .WithName("CancelReconciliation")
            .WithSummary("Cancel a running reconciliation job; answers once it has stopped.")
            .Produces<ReconciliationDoc>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/v1/decisions/{id}/reconcile", async (string id, Reconciliations jobs, CancellationToken cancel) =>
                await jobs.CheckOneAsync(id, cancel) is { } check
                    ? Results.Json(check, json)
                    : new Problem(StatusCodes.Status404NotFound, "Unknown decision",
                        $"no decision '{id}' is recorded (never, or deleted after {DecisionOptions.Section}:Retention)").ToResult())
            .WithName("ReconcileDecision")
            .WithSummary("Reconcile one recorded decision now: the replay and effective-state checks of each of its reads.")
            .Produces<DecisionCheck>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static Problem UnknownJob(string id) => new(StatusCodes.Status404NotFound, "Unknown reconciliation",
        $"no reconciliation job '{id}' is kept on this node (jobs live in its memory: the last {DecisionOptions.Section}:ReconcileJobsKept finished ones)");

    private static async Task<IResult> StartAsync(HttpRequest request, Reconciliations jobs, DecisionOptions options, JsonSerializerOptions json,
        CancellationToken cancel)
    {
        ((DateTimeOffset From, DateTimeOffset To) Range, Problem? Problem) parsed;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel);
            parsed = ParseRange(doc.RootElement, options);
        }
        catch (JsonException ex)
        {
            return Problem.MalformedJson(ex).ToResult();
        }
        if (parsed.Problem is not null) return parsed.Problem.ToResult();
        var job = jobs.Start(parsed.Range.From, parsed.Range.To);
        request.HttpContext.Response.Headers.Location = $"/v1/reconciliations/{job.Id}";
        return Results.Json(job.ToDoc(), json, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>{"from": T, "to": T}: both ISO-8601 times, from before to, the range no longer than the decisions are kept.</summary>
    private static ((DateTimeOffset From, DateTimeOffset To) Range, Problem? Problem) ParseRange(JsonElement root, DecisionOptions options)
    {
        static Problem Bad(string detail) => Problem.BadRequest("Invalid reconciliation", detail);
        if (root.ValueKind != JsonValueKind.Object) return (default, Bad($"the body must be a JSON object {{\"from\": T, \"to\": T}}, T {Example}"));
        foreach (var p in root.EnumerateObject())
            if (p.Name is not ("from" or "to"))
                return (default, Bad($"{p.Name} is not a field of a reconciliation (fields: from, to)"));
        var times = new DateTimeOffset[2];
        string[] names = ["from", "to"];
        for (var i = 0; i < names.Length; i++)
        {
            if (!root.TryGetProperty(names[i], out var value) || value.ValueKind == JsonValueKind.Null)
                return (default, Bad($"{names[i]} is required: {Example}"));
            if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out times[i]))
                return (default, Bad($"{names[i]} must be {Example}, not {Problem.Shorten(value.GetRawText())}"));
        }
        var (from, to) = (times[0], times[1]);
        if (from >= to) return (default, Bad($"from ({from:O}) must be before to ({to:O})"));
        if (to - from > options.Retention)
            return (default, Bad($"from {from:O} to {to:O} spans {to - from}, longer than decisions are kept ({options.Retention}, setting " +
                                 $"{DecisionOptions.Section}:Retention)"));
        return ((from, to), null);
    }

    private static async Task<IResult> CancelAsync(string id, Reconciliations jobs, JsonSerializerOptions json, CancellationToken cancel)
    {
        if (jobs.Find(id) is not { } job) return UnknownJob(id).ToResult();
        var before = job.ToDoc();
        if (before.State is ReconciliationState.Done or ReconciliationState.Failed)
            return new Problem(StatusCodes.Status409Conflict, "Reconciliation not running",
                $"reconciliation job '{id}' has ended ({before.State.ToString().ToLowerInvariant()}); only a running job can be cancelled").ToResult();
        await job.CancelAsync(cancel);
        return Results.Json(job.ToDoc(), json);
    }
}
