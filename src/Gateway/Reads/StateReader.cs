// Reads one entity or one view key at a resolved read point, asking the actor that owns it. Used by
// every read endpoint, so a decision read and a single read answer the same way.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Actors;
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using ContextLake.Views.Vectors;

namespace ContextLake.Gateway.Reads;

public sealed record LastEventDoc(string Stream, long Offset, DateTimeOffset Time, JsonElement Data);

public sealed record EventHistoryDoc(long Count, LastEventDoc? Last);

public sealed record EntityDoc(string Type, string Id, bool Exists, IReadOnlyDictionary<string, JsonElement> State, EventHistoryDoc Events, IReadOnlyDictionary<string, long> Applied);

public sealed record WindowDoc(DateTimeOffset Start, DateTimeOffset End);

public sealed record ViewKeyDoc(string View, string Key, IReadOnlyDictionary<string, JsonElement> Values, WindowDoc? Window, long? Late);

public sealed record SimilarHitDoc(string Id, float Score, IReadOnlyDictionary<string, JsonElement> Fields);

public sealed record SimilarDoc(string Similar, int K, bool Exact, IReadOnlyList<SimilarHitDoc> Neighbors);

public sealed class StateReader(
    IRequiredActor<EntityRegion> entities, IRequiredActor<ViewRegion> views, IRequiredActor<VectorRegion> vectors,
    ViewCatalog catalog, EntitySchemas schemas, NodeOptions options)
{
    /// <summary>
    /// The k entities of a vector view most similar to <paramref name="vector"/> at the read point: every
    /// partition answers its own top k at the epoch's vector, and the answers are merged.
    /// </summary>
    public async Task<(SimilarDoc?, Problem?)> ReadSimilarAsync(string viewName, JsonElement vector, int k, string? where, bool exact,
        ReadPoint point, string at, CancellationToken cancel)
    {
        if (catalog.Find(viewName) is not { } view)
            return (null, new Problem(StatusCodes.Status404NotFound, "Unknown view",
                $"{at}.similar: there is no view named '{viewName}' (views: {string.Join(", ", catalog.All.Select(v => v.Name).Order())})"));
        if (view.Definition.Vector is not { } spec)
            return (null, Problem.BadRequest("Invalid read", $"{at}.similar: view {viewName} is not a vector view; read it with \"view\" and \"key\""));
        if (VectorProjector.TryRead(vector, spec, out var query) is { } fault)
            return (null, Problem.BadRequest("Invalid read", $"{at}.vector {fault} (view {viewName}: dimensions = {spec.Dimensions}, metric = {spec.Metric.ToString().ToLowerInvariant()})"));
        if (where is not null)
        {
            try
            {
                ViewSql.ValidateCondition(ViewSql.ParseCondition(where), view.Definition.Source, schemas);
            }
            catch (ViewDefinitionException ex)
            {
                return (null, Problem.BadRequest("Invalid read", $"{at}.where: {ex.Message}"));
            }
        }
        if (!view.Ready)
            return (null, new Problem(StatusCodes.Status503ServiceUnavailable, "View not caught up",
                $"{at}: view {viewName} is still backfilling from the journal ({view.Entry.BackfillDone} of {view.Entry.BackfillTotal} entities); see GET /v1/views/{viewName}"));

        try
        {
            var asks = Enumerable.Range(0, spec.Partitions).Select(p =>
                vectors.ActorRef.Ask<object>(new SearchVectors(new VectorPartitionAddress(view.Name, view.Incarnation, p).ToString(),
                    point.Epoch.Vector, query, k, where, exact), options.Http.ReadTimeout, cancel));
            var replies = await Task.WhenAll(asks);
            var top = new TopK(k);
            var fields = new Dictionary<string, IReadOnlyDictionary<string, JsonElement>>(StringComparer.Ordinal);
            foreach (var reply in replies)
            {
                switch (reply)
                {
                    case VectorNeighbors n:
                        foreach (var hit in n.Hits)
                        {
                            top.Offer(new Neighbor(hit.Id, hit.Score));
                            fields[hit.Id] = hit.Fields;
                        }
                        break;
                    case ViewReadRefused r:
                        return (null, Problem.BadRequest("Invalid read", $"{at}: {r.Reason}"));
                    case ReadTooOld:
                        return (null, TooOld(point));
                    default:
                        return (null, Unexpected(at, reply));
                }
            }
            return (new SimilarDoc(viewName, k, exact, top.ToList().Select(n => new SimilarHitDoc(n.Id, n.Score, fields[n.Id])).ToList()), null);
        }
        catch (AskTimeoutException)
        {
            return (null, NotReachable($"{at}: vector view {viewName}"));
        }
    }

    public async Task<(EntityDoc?, Problem?)> ReadEntityAsync(string type, string id, ReadPoint point, string where, CancellationToken cancel)
    {
        if (!EntityKey.IsValidType(type))
            return (null, Problem.BadRequest("Invalid entity address", $"{where}: type '{type}' must be {Names.Rule}"));
        if (id.Length is 0 or > EntityKey.MaxIdLength)
            return (null, Problem.BadRequest("Invalid entity address", $"{where}: id must be 1 to {EntityKey.MaxIdLength} characters"));
        try
        {
            var reply = await entities.ActorRef.Ask<object>(new GetEntity(new EntityKey(type, id), point.Epoch.Vector), options.Http.ReadTimeout, cancel);
            return reply switch
            {
                EntityReadResult r => (new EntityDoc(type, id, r.Exists, r.State,
                    new EventHistoryDoc(r.EventCount, r.LastEvent is { } e ? new LastEventDoc(e.Stream, e.Offset, e.EventTime, e.Data) : null),
                    r.Positions), null),
                ReadTooOld => (null, TooOld(point)),
                _ => (null, Unexpected(where, reply)),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, NotReachable($"{where}: entity {type}/{id}"));
        }
    }

    public async Task<(ViewKeyDoc?, Problem?)> ReadViewAsync(string viewName, string key, string? window, ReadPoint point, string where, CancellationToken cancel)
    {
        if (catalog.Find(viewName) is not { } view)
            return (null, new Problem(StatusCodes.Status404NotFound, "Unknown view",
                $"{where}: there is no view named '{viewName}' (views: {string.Join(", ", catalog.All.Select(v => v.Name).Order())})"));
        if (!view.Ready)
            return (null, new Problem(StatusCodes.Status503ServiceUnavailable, "View not caught up",
                $"{where}: view {viewName} is still backfilling from the journal ({view.Entry.BackfillDone} of {view.Entry.BackfillTotal} entities); see GET /v1/views/{viewName}"));
        TimeSpan? span = null;
        if (!string.IsNullOrEmpty(window))
        {
            if (!ReadPoints.TryParseDuration(window, out var s))
                return (null, Problem.BadRequest("Invalid read", $"{where}: window '{window}' is not a duration such as 10m, 30s or 1h"));
            span = s;
        }
        if (key.Length == 0)
            return (null, Problem.BadRequest("Invalid read", $"{where}: key must not be empty"));

        try
        {
            var address = new ViewKeyAddress(view.Name, view.Incarnation, key).ToString();
            var reply = await views.ActorRef.Ask<object>(new ReadViewKey(address, point.Epoch.Vector, point.At, span), options.Http.ReadTimeout, cancel);
            return reply switch
            {
                ViewKeyValues v => (new ViewKeyDoc(viewName, key, v.Values,
                    v.WindowStart is { } ws && v.WindowEnd is { } we ? new WindowDoc(ws, we) : null,
                    view.Definition.Window is null ? null : v.Late), null),
                ViewReadRefused r => (null, Problem.BadRequest("Invalid read", $"{where}: {r.Reason}")),
                ReadTooOld => (null, TooOld(point)),
                _ => (null, Unexpected(where, reply)),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, NotReachable($"{where}: view {viewName} key {key}"));
        }
    }

    private Problem TooOld(ReadPoint point) => new(StatusCodes.Status410Gone, "Epoch no longer readable",
        $"epoch {point.Epoch.N} is older than the state kept (setting ContextLake:Epochs:History, {options.Epochs.History})");

    private Problem NotReachable(string what) => new(StatusCodes.Status503ServiceUnavailable, "State not reachable",
        $"{what} did not answer within {options.Http.ReadTimeout.TotalSeconds:0.#}s (setting ContextLake:Http:ReadTimeout)");

    private static Problem Unexpected(string where, object reply) => new(StatusCodes.Status500InternalServerError, "Unexpected answer",
        $"{where}: the owning actor answered {reply.GetType().Name}");
}
