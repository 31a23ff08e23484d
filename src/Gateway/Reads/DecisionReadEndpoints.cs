// POST /v1/read: the decision read. Entities, view keys (windows included) and nearest-neighbour
// searches of vector views, all answered at one epoch, so no two values in the answer disagree about
// which events happened. A read that names a decision is answered once it is recorded in the decision
// log (Decisions/DecisionLog.cs), and GET /v1/decisions/{id} returns the record. And GET /v1/epoch.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Gateway.Decisions;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Reads;

public sealed record DecisionReadDoc(IReadOnlyList<ReadItemDoc> Reads, IReadOnlyList<string>? After, long? Epoch, string? Consistency, string? Timeout, string? At,
    string? Decision = null, JsonElement? Labels = null);

public sealed record ReadItemDoc(string? Entity, string? View, string? Key, string? Window,
    string? Similar = null, JsonElement? Vector = null, int? K = null, string? Where = null, bool? Exact = null);

public sealed record DecisionReadResponse(EpochDoc Epoch, DateTimeOffset At, IReadOnlyList<object> Results, string? Decision = null);

/// <summary>A recorded decision: when, at which epoch, what was asked (the request as sent) and what was answered.</summary>
public sealed record DecisionDoc(string Id, DateTimeOffset RecordedAt, long Epoch, JsonElement Request, JsonElement Answer);

public sealed record StreamDoc(long Committed, long Read, long Lag);

public sealed record EpochResponse(long N, IReadOnlyDictionary<string, long> Vector, DateTimeOffset CommittedAt, long AgeMs,
    long OldestReadable, IReadOnlyDictionary<string, StreamDoc> Streams);

public static class DecisionReadEndpoints
{
    public const int MaxK = 1000;

    public static void MapDecisionReadEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/read", Read)
            .WithName("DecisionRead")
            .WithSummary("Read several entities and view keys at one epoch.")
            .DocumentsBody<DecisionReadDoc>()
            .Produces<DecisionReadResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        app.MapGet("/v1/decisions/{id}", GetDecision)
            .WithName("GetDecision")
            .WithSummary("A recorded decision: its read time, epoch, request (reads, read point, labels) and answer.")
            .Produces<DecisionDoc>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/epoch", GetEpoch)
            .WithName("GetEpoch")
            .WithSummary("The latest committed epoch (or the first covering after=…, waiting up to timeout), with per-stream lag.")
            .Produces<EpochResponse>();
    }

    private static async Task<IResult> GetEpoch(
        HttpRequest request, EpochClock clock, NodeOptions options, IRequiredActor<EpochCoordinatorKey> coordinator, CancellationToken cancel)
    {
        // The same read point as every read: after=STREAM@OFFSET long-polls until an epoch commits it.
        var (point, problem) = await ReadPoints.ResolveQueryAsync(request, clock, options, cancel);
        if (problem is not null) return problem.ToResult();
        var latest = point!.Epoch;
        var read = new Dictionary<string, long>();
        try
        {
            var positions = await coordinator.ActorRef.Ask<StreamPositions>(GetStreamPositions.Instance, TimeSpan.FromSeconds(2), cancel);
            read = positions.Read.ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        catch (AskTimeoutException)
        {
        }
        var streams = latest.Vector.Keys.Union(read.Keys).Order(StringComparer.Ordinal).ToDictionary(
            s => s,
            s =>
            {
                var committed = latest[s];
                var r = Math.Max(committed, read.GetValueOrDefault(s));
                return new StreamDoc(committed, r, r - committed);
            });
        return Results.Ok(new EpochResponse(latest.N, latest.Vector, latest.CommittedAt,
            (long)Math.Max(0, (DateTimeOffset.UtcNow - latest.CommittedAt).TotalMilliseconds), clock.Horizon.N, streams));
    }

    private static async Task<IResult> GetDecision(string id, DecisionLog log, CancellationToken cancel)
    {
        if (await log.FindAsync(id, cancel) is not { } d)
            return new Problem(StatusCodes.Status404NotFound, "Unknown decision",
                $"no decision '{id}' is recorded (never, or deleted after ContextLake:Decisions:Retention)").ToResult();
        using var request = JsonDocument.Parse(d.Request);
        using var answer = JsonDocument.Parse(d.Answer);
        return Results.Ok(new DecisionDoc(d.Id, d.RecordedAt, d.Epoch, request.RootElement.Clone(), answer.RootElement.Clone()));
    }

    /// <summary>The decision a read names ("decision": id, "labels": {...}), or none; a bad one is a 400 naming the field.</summary>
    private static (string? Id, Problem? Problem) ParseDecision(JsonElement root, DecisionOptions options)
    {
        static Problem Bad(string detail) => Problem.BadRequest("Invalid decision", detail);
        string? id = null;
        if (root.TryGetProperty("decision", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            id = d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            if (DecisionRequests.IdProblem(id, "decision", d.GetRawText(), options) is { } idProblem) return (null, Bad(idProblem));
        }
        if (root.TryGetProperty("labels", out var labels) && labels.ValueKind != JsonValueKind.Null)
        {
            if (id is null) return (null, Bad("labels describe a decision: name it with \"decision\": \"…\""));
            if (DecisionRequests.LabelsProblem(labels, options) is { } labelsProblem) return (null, Bad(labelsProblem));
        }
        return (id, null);
    }

    /// <summary>The recorded answer; a request sent again under its decision id gets the answer recorded the first time.</summary>
    private static IResult Replay(HttpRequest request, bool replayed, string answer)
    {
        if (replayed) request.HttpContext.Response.Headers["Decision-Replayed"] = "true";
        return Results.Text(answer, "application/json", System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> Read(HttpRequest request, StateReader reader, EpochClock clock, NodeOptions options, DecisionLog decisions,
        DecisionOptions decisionOptions, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancel)
    {
        if (request.ContentType is null || !request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return new Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"the body must be application/json, not '{request.ContentType ?? "(none)"}'").ToResult();

        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel);
        }
        catch (JsonException ex)
        {
            return Problem.MalformedJson(ex).ToResult();
        }

        using (doc)
        {
            var (parsed, problem) = Parse(doc.RootElement, options.Limits.MaxReadKeys);
            if (problem is not null) return problem.ToResult();
            var (decision, decisionProblem) = ParseDecision(doc.RootElement, decisionOptions);
            if (decisionProblem is not null) return decisionProblem.ToResult();
            var (req, items) = parsed!.Value;

            var (point, pointProblem) = await ReadPoints.ResolveAsync(req, clock, options, cancel);
            if (pointProblem is not null) return pointProblem.ToResult();

            // Entities and view keys are read together, grouped by partition; similarity searches ask every partition of their view.
            var state = new List<(int Index, StateRead Read)>();
            var similar = new List<(int Index, Task<(SimilarDoc?, Problem?)> Search)>();
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                var where = $"reads[{i}]";
                if (item.Similar is { } view)
                    similar.Add((i, reader.ReadSimilarAsync(view, item.Vector!.Value, item.K!.Value, item.Where, item.Exact ?? false, point!, where, cancel)));
                else
                    state.Add((i, StateReadOf(item, where)!));
            }
            var (results, problems) = await reader.ReadEachAsync(state.Select(s => s.Read).ToList(), point!, cancel);
            var answers = new (object? Result, Problem? Problem)[items.Count];
            for (var i = 0; i < state.Count; i++)
                answers[state[i].Index] = (results[i] is { } answer ? Shape(items[state[i].Index], answer) : null, problems[i]);
            foreach (var (index, search) in similar) answers[index] = await search;
            var failed = answers.FirstOrDefault(a => a.Problem is not null);
            if (failed.Problem is not null) return failed.Problem.ToResult();
            var response = new DecisionReadResponse(point!.ToDoc(), point.At, answers.Select(a => a.Result!).ToList(), decision);
            if (decision is null) return Results.Ok(response);

            // Recorded before it is answered: the answer the client acts on is the one on the record.
            var answerJson = JsonSerializer.Serialize(response, json.Value.SerializerOptions);
            var (recorded, replayed, recordProblem) = await decisions.DecideAsync(
                decision, point.Epoch.N, DecisionRequests.Request(doc.RootElement.WriteTo), answerJson, cancel);
            return recordProblem is not null ? recordProblem.ToResult() : Replay(request, replayed, recorded!.Answer);
        }
    }

    /// <summary>The entity or view key read an item asks for; null for a similarity search.</summary>
    internal static StateRead? StateReadOf(ReadItemDoc item, string where) =>
        item.Entity is { } entity ? new EntityStateRead(entity[..entity.IndexOf('/')], entity[(entity.IndexOf('/') + 1)..], where)
        : item.Similar is null ? new ViewStateRead(item.View!, item.Key!, item.Window, where)
        : null;

    /// <summary>An entity answer names its entity as the request did; a view key answer is the key's document.</summary>
    internal static object Shape(ReadItemDoc item, object doc) => doc is EntityDoc e
        ? new { entity = item.Entity, e.Exists, e.State, e.Events, e.Applied }
        : doc;

    /// <summary>A nearest-neighbour read: {"similar": view, "vector": [...], "k": 10, "where": "...", "exact": false}.</summary>
    private static (ReadItemDoc?, Problem?) ParseSimilar(JsonElement r, string at)
    {
        static Problem Bad(string detail) => Problem.BadRequest("Invalid read", detail);
        foreach (var p in r.EnumerateObject())
            if (p.Name is not ("similar" or "vector" or "k" or "where" or "exact"))
                return (null, Bad($"{at}.{p.Name} is not a field of a similarity read (fields: similar, vector, k, where, exact)"));
        var similar = r.GetProperty("similar");
        if (similar.ValueKind != JsonValueKind.String || similar.GetString() is not { Length: > 0 } view)
            return (null, Bad($"{at}.similar must name a vector view"));
        if (!r.TryGetProperty("vector", out var vector) || vector.ValueKind != JsonValueKind.Array)
            return (null, Bad($"{at}.vector is required: an array of numbers"));
        var k = 10;
        if (r.TryGetProperty("k", out var kEl) && (kEl.ValueKind != JsonValueKind.Number || !kEl.TryGetInt32(out k) || k < 1 || k > MaxK))
            return (null, Bad($"{at}.k {kEl.GetRawText()} is out of range: a whole number from 1 to {MaxK}"));
        string? where = null;
        if (r.TryGetProperty("where", out var whereEl) && whereEl.ValueKind != JsonValueKind.Null)
        {
            if (whereEl.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(whereEl.GetString()))
                return (null, Bad($"{at}.where must be a condition such as \"category = 'grocery'\""));
            where = whereEl.GetString();
        }
        bool? exact = null;
        if (r.TryGetProperty("exact", out var exactEl))
        {
            if (exactEl.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return (null, Bad($"{at}.exact must be true or false"));
            exact = exactEl.GetBoolean();
        }
        return (new ReadItemDoc(null, null, null, null, view, vector.Clone(), k, where, exact), null);
    }

    internal static ((ReadPointRequest, List<ReadItemDoc>)?, Problem?) Parse(JsonElement root, int maxReads)
    {
        static Problem Bad(string detail) => Problem.BadRequest("Invalid read", detail);
        if (root.ValueKind != JsonValueKind.Object) return (null, Bad("the body must be a JSON object {\"reads\": [...]}"));
        if (!root.TryGetProperty("reads", out var reads) || reads.ValueKind != JsonValueKind.Array)
            return (null, Bad("the body needs a \"reads\" array"));
        if (reads.GetArrayLength() == 0 || reads.GetArrayLength() > maxReads)
            return (null, Bad($"reads must hold 1 to {maxReads} items, not {reads.GetArrayLength()} (setting ContextLake:Limits:MaxReadKeys)"));

        var items = new List<ReadItemDoc>();
        var i = 0;
        foreach (var r in reads.EnumerateArray())
        {
            var at = $"reads[{i++}]";
            if (r.ValueKind != JsonValueKind.Object) return (null, Bad($"{at} must be an object"));
            string? Str(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (r.TryGetProperty("similar", out _))
            {
                var (similar, problem) = ParseSimilar(r, at);
                if (problem is not null) return (null, problem);
                items.Add(similar!);
                continue;
            }
            foreach (var p in r.EnumerateObject())
                if (p.Name is not ("entity" or "view" or "key" or "window"))
                    return (null, Bad($"{at}.{p.Name} is not a field of a read (fields: entity, or view, key and window, or similar, vector, k, where and exact)"));
            var entity = Str("entity");
            var view = Str("view");
            if (entity is not null)
            {
                if (view is not null) return (null, Bad($"{at} names both an entity and a view; one read reads one thing"));
                var slash = entity.IndexOf('/');
                if (slash <= 0 || slash == entity.Length - 1) return (null, Bad($"{at}.entity '{entity}' is not of the form type/id"));
                items.Add(new ReadItemDoc(entity, null, null, null));
                continue;
            }
            if (view is null) return (null, Bad($"{at} needs \"entity\": \"type/id\" or \"view\" with \"key\""));
            var key = r.TryGetProperty("key", out var k) ? k.ValueKind switch
            {
                JsonValueKind.String => k.GetString(),
                JsonValueKind.Number => k.GetRawText(),
                _ => null,
            } : null;
            if (key is null) return (null, Bad($"{at}.key is required for a view read (a string or a number)"));
            items.Add(new ReadItemDoc(null, view, key, Str("window")));
        }

        var after = new List<string>();
        if (root.TryGetProperty("after", out var afterEl))
        {
            if (afterEl.ValueKind == JsonValueKind.String) after.Add(afterEl.GetString()!);
            else if (afterEl.ValueKind == JsonValueKind.Array && afterEl.EnumerateArray().All(a => a.ValueKind == JsonValueKind.String))
                after.AddRange(afterEl.EnumerateArray().Select(a => a.GetString()!));
            else return (null, Bad("after must be a string or an array of strings like \"http:writes@97\""));
        }
        long? epoch = null;
        if (root.TryGetProperty("epoch", out var epochEl) && epochEl.ValueKind != JsonValueKind.Null)
        {
            if (epochEl.ValueKind != JsonValueKind.Number || !epochEl.TryGetInt64(out var n) || n < 0)
                return (null, Bad($"epoch {epochEl.GetRawText()} is not a non-negative integer"));
            epoch = n;
        }
        string? Opt(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return ((new ReadPointRequest(epoch, after, Opt("consistency"), Opt("timeout"), Opt("at")), items), null);
    }
}
