// GET /v1/subscribe: a live feed of view keys as Server-Sent Events. A snapshot of the keys at an epoch,
// then, for each later epoch in order, one `change` event per changed key with its value before (at the
// previous epoch) and after (at this one), read from the versions per epoch like any as-of read. Event ids are
// `n` (snapshot) and `n:i` (the i-th change of epoch n for this subscription, keys in ordinal order), so
// a client that reconnects with Last-Event-ID resumes after exactly what it had, without gap or duplicate.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Telemetry;
using ContextLake.Views.Catalog;
using ContextLake.Views.Subscriptions;

namespace ContextLake.Gateway.Subscriptions;

public sealed record KeyValuesDoc(string Key, IReadOnlyDictionary<string, JsonElement> Values);

public sealed record SnapshotDoc(EpochDoc Epoch, string View, IReadOnlyList<KeyValuesDoc> Keys);

public sealed record ChangeDoc(EpochDoc Epoch, string View, string Key, IReadOnlyDictionary<string, JsonElement> Before, IReadOnlyDictionary<string, JsonElement> After);

public sealed record StreamErrorDoc(string Title, string Detail);

public static class SubscriptionEndpoints
{
    /// <summary>How long a cut-off client gets to take its final error event before the connection is dropped.</summary>
    private static readonly TimeSpan FinalEventGrace = TimeSpan.FromSeconds(10);

    /// <summary>Logged epochs a subscription takes from the hub at a time.</summary>
    private const int EpochsPerTake = 64;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static void MapSubscriptionEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/subscribe", Subscribe).WithName("Subscribe")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private static async Task<IResult> Subscribe(HttpContext http, ViewCatalog catalog, SubscriptionHub hub, SharedViewReads reads,
        EpochClock clock, NodeOptions options)
    {
        var request = http.Request;
        var viewName = request.Query["view"].FirstOrDefault();
        if (string.IsNullOrEmpty(viewName))
            return Problem.BadRequest("Invalid subscription", "parameter view is required, e.g. /v1/subscribe?view=card_velocity&key=c9").ToResult();
        var keys = request.Query["key"].Select(k => k ?? "").ToList();
        var emptyAt = keys.FindIndex(k => k.Length == 0);
        if (emptyAt >= 0)
            return Problem.BadRequest("Invalid subscription", $"key[{emptyAt}] is empty; name a group key of view {viewName}, or no key for the whole view").ToResult();
        keys = keys.Distinct(StringComparer.Ordinal).ToList();
        if (keys.Count > options.Subscriptions.MaxKeys)
            return Problem.BadRequest("Invalid subscription",
                $"{keys.Count} keys is more than one subscription may name ({options.Subscriptions.MaxKeys}, setting ContextLake:Subscriptions:MaxKeys); subscribe to the whole view instead").ToResult();

        if (catalog.Find(viewName) is not { } view)
            return new Problem(StatusCodes.Status404NotFound, "Unknown view",
                $"parameter view: there is no view named '{viewName}' (views: {string.Join(", ", catalog.All.Select(v => v.Name).Order())})").ToResult();
        if (view.Definition.Vector is not null)
            return Problem.BadRequest("Invalid subscription",
                $"parameter view: {viewName} is a vector view, which is searched with similar reads (POST /v1/read), not subscribed to; subscriptions follow aggregate views").ToResult();
        if (!view.Ready)
            return new Problem(StatusCodes.Status503ServiceUnavailable, "View not caught up",
                $"parameter view: view {viewName} is still backfilling from the journal; see GET /v1/views/{viewName}").ToResult();

        (long Epoch, long? Index)? resume = null;
        var lastEventId = request.Headers["Last-Event-ID"].FirstOrDefault();
        if (!string.IsNullOrEmpty(lastEventId))
        {
            if (!TryParseEventId(lastEventId, out var parsed))
                return Problem.BadRequest("Invalid subscription",
                    $"header Last-Event-ID '{lastEventId}' is not an id this feed sends (N for a snapshot, N:I for a change)").ToResult();
            resume = parsed;
        }
        if (!clock.Known)
            return new Problem(StatusCodes.Status503ServiceUnavailable, "Epochs not known yet",
                "this node has not yet heard the committed epoch from the epoch coordinator; retry shortly (see /readyz)").ToResult();

        if (resume is null) await hub.CatchUpAsync(clock.Latest.N, options.Http.ReadTimeout, http.RequestAborted);

        // Resuming inside epoch n means epoch n is sent again from the hub, skipping the changes already taken.
        long? from = resume is { } r ? (r.Index is null ? r.Epoch : r.Epoch - 1) : null;
        var (subscriber, start, refusal) = hub.Subscribe(from);
        switch (refusal)
        {
            case ResumeRefusal.Full:
                return new Problem(StatusCodes.Status503ServiceUnavailable, "Too many subscriptions",
                    $"this node already serves {options.Subscriptions.MaxSubscribers} subscriptions (setting ContextLake:Subscriptions:MaxSubscribers); retry later or on another node").ToResult();
            case ResumeRefusal.NotStarted:
                return new Problem(StatusCodes.Status503ServiceUnavailable, "Subscriptions not ready",
                    "this node's subscription hub has not seen a committed epoch yet; retry shortly").ToResult();
            case ResumeRefusal.Gone:
                return new Problem(StatusCodes.Status410Gone, "Resume point no longer available",
                    $"header Last-Event-ID '{lastEventId}': epoch {from} is older than this node can replay; the oldest is {hub.ReplayFloor} " +
                    $"(setting ContextLake:Epochs:History, {options.Epochs.History}); subscribe again without Last-Event-ID for a new snapshot").ToResult();
            case ResumeRefusal.Newer:
                return Problem.BadRequest("Invalid subscription",
                    $"header Last-Event-ID '{lastEventId}': epoch {resume!.Value.Epoch} is newer than the latest committed epoch {clock.Latest.N}").ToResult();
        }

        var endGate = new object();
        var ended = false;
        try
        {
            SnapshotDoc? snapshot = null;
            if (resume is null)
            {
                var values = new List<KeyValuesDoc>(keys.Count);
                foreach (var key in keys)
                {
                    var (doc, problem) = await reads.ReadAsync(view, key, start!, http.RequestAborted);
                    if (problem is not null) return problem.ToResult();
                    values.Add(new KeyValuesDoc(key, doc!.Values));
                }
                snapshot = new SnapshotDoc(ToDoc(start!), view.Name, values);
            }

            var response = http.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            await response.StartAsync(http.RequestAborted);
            // A cut-off client that does not take its final event must not hold the connection for ever.
            _ = subscriber!.Ended.ContinueWith(async _ =>
            {
                await Task.Delay(FinalEventGrace);
                lock (endGate)
                    if (!ended) http.Abort();
            }, TaskScheduler.Default);

            var feed = new Feed(http, view, keys.Count == 0 ? null : keys.ToHashSet(StringComparer.Ordinal), subscriber, hub, reads, catalog, options);
            if (snapshot is not null) await feed.Write("snapshot", start!.N.ToString(CultureInfo.InvariantCulture), snapshot);
            await feed.Run(resume is { Index: { } skip } ? (resume.Value.Epoch, skip) : null);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The connection broke or was aborted after a cut-off.
        }
        finally
        {
            // The context is pooled after this request: the watchdog above must not abort it later.
            lock (endGate) ended = true;
            hub.Unsubscribe(subscriber!);
        }
        return Results.Empty;
    }

    private static bool TryParseEventId(string text, out (long Epoch, long? Index) id)
    {
        id = default;
        var colon = text.IndexOf(':');
        var epochText = colon < 0 ? text : text[..colon];
        if (!long.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)) return false;
        if (colon < 0)
        {
            id = (epoch, null);
            return true;
        }
        if (!long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return false;
        id = (epoch, index);
        return epoch > 0;
    }

    private static EpochDoc ToDoc(Epoch e) => new(e.N, e.Vector, e.CommittedAt, null);

    /// <summary>One subscription's loop: follows the hub's log from its cursor and writes the events.</summary>
    private sealed class Feed(HttpContext http, CatalogView view, HashSet<string>? keys, Subscriber subscriber, SubscriptionHub hub,
        SharedViewReads reads, ViewCatalog catalog, NodeOptions options)
    {
        private readonly CancellationToken _cancel = http.RequestAborted;

        public async Task Run((long Epoch, long Index)? skip)
        {
            while (!_cancel.IsCancellationRequested)
            {
                var (next, more) = hub.After(subscriber, EpochsPerTake);
                if (subscriber.CutOffReason is { } reason)
                {
                    await End("Subscription cut off", reason);
                    return;
                }
                if (next.Count == 0)
                {
                    try
                    {
                        // WaitAsync drops its timer as soon as an epoch arrives: no timer outlives its wait.
                        await more.WaitAsync(options.Subscriptions.KeepAlive, _cancel);
                    }
                    catch (TimeoutException)
                    {
                        await http.Response.WriteAsync(": keep-alive\n\n", _cancel);
                        await http.Response.Body.FlushAsync(_cancel);
                    }
                    continue;
                }

                foreach (var record in next)
                {
                    if (catalog.Find(view.Name, view.Incarnation) is null)
                    {
                        Metrics.SubscriptionsCutOff.WithLabels("view").Inc();
                        await End("View dropped", $"view {view.Name} was dropped (or dropped and created again); subscribe again");
                        return;
                    }
                    var sent = 0;
                    if (record.Views.TryGetValue(view.Name, out var changed) && changed.Incarnation == view.Incarnation)
                    {
                        var index = -1;
                        foreach (var key in changed.Keys)
                        {
                            if (keys is not null && !keys.Contains(key)) continue;
                            index++;
                            if (skip is { } s && s.Epoch == record.N && index <= s.Index) continue;
                            var (before, beforeProblem) = await reads.ReadAsync(view, key, record.Before, _cancel);
                            var (after, afterProblem) = await reads.ReadAsync(view, key, record.Epoch, _cancel);
                            if ((beforeProblem ?? afterProblem) is { } problem)
                            {
                                Metrics.SubscriptionsCutOff.WithLabels(problem.Status == StatusCodes.Status410Gone ? "horizon" : "read").Inc();
                                await End(problem.Title, $"epoch {record.N}, key {key}: {problem.Detail}");
                                return;
                            }
                            await Write("change", $"{record.N}:{index}", new ChangeDoc(ToDoc(record.Epoch), view.Name, key, before!.Values, after!.Values));
                            sent++;
                        }
                    }
                    if (sent > 0)
                    {
                        await http.Response.Body.FlushAsync(_cancel);
                        Metrics.SubscriptionDeliverySeconds.Observe(Math.Max(0, (DateTimeOffset.UtcNow - record.Epoch.CommittedAt).TotalSeconds));
                    }
                    subscriber.Delivered(record.N);
                    if (subscriber.CutOffReason is not null) break;
                }
            }
        }

        public async Task Write(string kind, string id, object data)
        {
            var json = JsonSerializer.Serialize(data, Json);
            await http.Response.WriteAsync($"event: {kind}\nid: {id}\ndata: {json}\n\n", _cancel);
            if (kind == "snapshot") await http.Response.Body.FlushAsync(_cancel);
        }

        /// <summary>The last event of a subscription the node ends: why, so the client knows whether to resume or resubscribe.</summary>
        private async Task End(string title, string detail)
        {
            var json = JsonSerializer.Serialize(new StreamErrorDoc(title, detail), Json);
            await http.Response.WriteAsync($"event: error\ndata: {json}\n\n", _cancel);
            await http.Response.Body.FlushAsync(_cancel);
        }
    }
}
