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

namespace ContextLake.Gateway.Reads;

public sealed record LastEventDoc(string Stream, long Offset, DateTimeOffset Time, JsonElement Data);

public sealed record EventHistoryDoc(long Count, LastEventDoc? Last);

public sealed record EntityDoc(string Type, string Id, bool Exists, IReadOnlyDictionary<string, JsonElement> State, EventHistoryDoc Events, IReadOnlyDictionary<string, long> Applied);

public sealed record WindowDoc(DateTimeOffset Start, DateTimeOffset End);

public sealed record ViewKeyDoc(string View, string Key, IReadOnlyDictionary<string, JsonElement> Values, WindowDoc? Window, long? Late);

public sealed class StateReader(
    IRequiredActor<EntityRegion> entities, IRequiredActor<ViewRegion> views, ViewCatalog catalog, NodeOptions options)
{
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
