// Reads entities and view keys at a resolved read point, for every read endpoint (a decision read and a
// single read answer the same way). The keys of a read are grouped by partition: a partition on this
// node that has reached the read's epoch is read directly from its published versions (no ask); any
// other is asked once for all of its keys. A key never written costs a lookup and nothing else. An epoch the
// partitions no longer hold is answered from the journal (StateReader.Journal.cs), unless the read would take
// any newer epoch (the latest, after=): then it is read again, whole, at the latest, a read that took longer
// than Epochs:History to reach a partition being no reason to scan the journal. A stale-ok read whose partition's
// owner is unreachable, or slower than Http:StandbyReadAfter, is answered by the partition's standby instead; a
// standby that has not reached the read's epoch says how far it has, and the whole read is taken again at that epoch.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Partitions;
using ContextLake.Views.Sql;
using ContextLake.Views.Vectors;

namespace ContextLake.Gateway.Reads;

public sealed record LastEventDoc(string Stream, long Offset, DateTimeOffset Time, JsonElement Data);

public sealed record EventHistoryDoc(long Count, LastEventDoc? Last);

public sealed record EntityDoc(string Type, string Id, bool Exists, IReadOnlyDictionary<string, JsonElement> State, EventHistoryDoc Events, IReadOnlyDictionary<string, long> Applied);

public sealed record WindowDoc(DateTimeOffset Start, DateTimeOffset End);

/// <summary>A view key's answer; <see cref="Exists"/> (not in the HTTP answer) is whether any row reached the key, for the Redis protocol's nil.</summary>
public sealed record ViewKeyDoc(string View, string Key, IReadOnlyDictionary<string, JsonElement> Values, WindowDoc? Window, long? Late,
    [property: System.Text.Json.Serialization.JsonIgnore] bool Exists = true,
    [property: System.Text.Json.Serialization.JsonIgnore] ContextLake.Views.Algebra.GroupValues? Group = null);

public sealed record SimilarHitDoc(string Id, float Score, IReadOnlyDictionary<string, JsonElement> Fields);

public sealed record SimilarDoc(string Similar, int K, bool Exact, IReadOnlyList<SimilarHitDoc> Neighbors);

/// <summary>One read of a request: an entity or a view key, with where it stands in the request (for problems).</summary>
public abstract record StateRead(string Where);

public sealed record EntityStateRead(string Type, string Id, string Where) : StateRead(Where);

public sealed record ViewStateRead(string View, string Key, string? Window, string Where) : StateRead(Where);

public sealed partial class StateReader(
    ActorSystem system, EpochClock clock, IRequiredActor<EntityRegion> entities, IRequiredActor<ViewRegion> views, IRequiredActor<VectorRegion> vectors,
    ViewCatalog catalog, NodeOptions options, LocalPartitions local, PartitionOwners owners)
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(system);

    public async Task<(EntityDoc?, Problem?)> ReadEntityAsync(string type, string id, ReadPoint point, string where, CancellationToken cancel)
    {
        var (results, problems) = await ReadEachAsync([new EntityStateRead(type, id, where)], point, cancel);
        return (results[0] as EntityDoc, problems[0]);
    }

    public async Task<(ViewKeyDoc?, Problem?)> ReadViewAsync(string viewName, string key, string? window, ReadPoint point, string where, CancellationToken cancel)
    {
        var (results, problems) = await ReadEachAsync([new ViewStateRead(viewName, key, window, where)], point, cancel);
        return (results[0] as ViewKeyDoc, problems[0]);
    }

    /// <summary>
    /// Reads every entity and view key of <paramref name="reads"/> at the read point's epoch: for each read, in order, its
    /// answer (EntityDoc or ViewKeyDoc) or the problem that stops it.
    /// </summary>
    public async Task<(object?[] Results, Problem?[] Problems)> ReadEachAsync(IReadOnlyList<StateRead> reads, ReadPoint point, CancellationToken cancel)
    {
        if (point.FromJournal)
        {
            var (journaled, refused) = (new object?[reads.Count], new Problem?[reads.Count]);
            await ReadFromJournalAsync(reads, Enumerable.Range(0, reads.Count).ToList(), point, journaled, refused, cancel);
            return (journaled, refused);
        }
        for (var attempt = 1; ; attempt++)
        {
            var (results, problems, tooOld, behind) = await ReadOnceAsync(reads, point, cancel);
            if (!behind.IsEmpty)
            {
                // Standbys answered for some partitions but had not reached the epoch: read everything at the oldest they hold.
                if (attempt < 3 && clock.Find(behind.Min()) is { } held)
                {
                    point.Epoch = held;
                    continue;
                }
                for (var i = 0; i < reads.Count; i++)
                    problems[i] ??= NotReachable($"{reads[i].Where}: a standby (its owner did not answer)");
                return (results, problems);
            }
            if (tooOld.IsEmpty) return (results, problems);
            if (point.Movable && attempt < 3 && clock.Latest.N > point.Epoch.N)
            {
                point.Epoch = clock.Latest;
                continue;
            }
            await ReadFromJournalAsync(reads, tooOld.Order().ToList(), point, results, problems, cancel);
            return (results, problems);
        }
    }

    /// <summary>One pass over the partitions at the point's epoch; the reads of keys whose partition no longer holds it are left in the bag.</summary>
    private async Task<(object?[] Results, Problem?[] Problems, System.Collections.Concurrent.ConcurrentBag<int> TooOld, System.Collections.Concurrent.ConcurrentBag<long> Behind)> ReadOnceAsync(
        IReadOnlyList<StateRead> reads, ReadPoint point, CancellationToken cancel)
    {
        var results = new object?[reads.Count];
        var problems = new Problem?[reads.Count];
        var entityParts = new Dictionary<int, List<(int Index, EntityKey Key)>>();
        var viewParts = new Dictionary<int, List<(int Index, ViewKeyRead Read, CatalogView View)>>();
        var partitions = options.State.Partitions;
        for (var i = 0; i < reads.Count; i++)
        {
            switch (reads[i])
            {
                case EntityStateRead e:
                    if ((problems[i] = CheckEntity(e)) is not null) continue;
                    var key = new EntityKey(e.Type, e.Id);
                    Add(entityParts, KeyGroups.PartitionOf(key.ToString(), partitions), (i, key));
                    break;
                case ViewStateRead v:
                    var (read, view, viewProblem) = CheckView(v, point.At);
                    if ((problems[i] = viewProblem) is not null) continue;
                    Add(viewParts, new ViewKeyAddress(view!.Name, view.Incarnation, v.Key).PartitionOf(partitions), (i, read!, view));
                    break;
            }
        }

        var tooOld = new System.Collections.Concurrent.ConcurrentBag<int>();
        var behind = new System.Collections.Concurrent.ConcurrentBag<long>();
        var n = point.Epoch.N;
        var work = new List<Task>();
        foreach (var (partition, keys) in entityParts)
        {
            if (local.Find<VersionedStore<EntityValue, IngestEvent>>(EntityRegion.TypeName, partition) is { } store && store.CommittedThrough >= n)
            {
                foreach (var (index, key) in keys)
                {
                    if (store.TryRead(key.ToString(), n, out var value) == ReadOutcome.TooOld) tooOld.Add(index);
                    else results[index] = EntityDocOf(EntityReadResult.Of(key, value));
                }
                continue;
            }
            work.Add(AskEntitiesAsync(partition, keys, point, results, problems, tooOld, behind, cancel));
        }
        foreach (var (partition, keys) in viewParts)
        {
            if (local.Find<ViewPartition.Reads>(ViewRegion.TypeName, partition) is { } published && published.Store.CommittedThrough >= n)
            {
                foreach (var (index, read, view) in keys)
                {
                    if (ViewReads.Read(published.Store, published.Definitions, read, n) is not { } values) tooOld.Add(index);
                    else (results[index], problems[index]) = ViewDocOf(values, read, view, reads[index].Where);
                }
                continue;
            }
            work.Add(AskViewsAsync(partition, keys, point, reads, results, problems, tooOld, behind, cancel));
        }
        await Task.WhenAll(work);
        return (results, problems, tooOld, behind);
    }

    /// <summary>
    /// Asks a partition on another node: its owner, or (a stale-ok read, with standbys) its standby when the owner is unreachable
    /// or has not answered within Http:StandbyReadAfter.
    /// </summary>
    private async Task<object> AskPartitionAsync(string region, int partition, IActorRef regionRef, object read, ReadPoint point, CancellationToken cancel)
    {
        var owner = owners.Of(region, partition);
        var ownerAsk = regionRef.Ask<object>(read, options.Http.ReadTimeout, cancel);
        if (!point.StaleOk || options.State.Standbys == 0 || owner is null) return await ownerAsk;
        var state = _cluster.State;
        if (Reachable(state, owner) && await Task.WhenAny(ownerAsk, Task.Delay(options.Http.StandbyReadAfter, cancel)) == ownerAsk) return await ownerAsk;
        var nodes = state.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up).Select(m => m.Address);
        if (PartitionPlacement.StandbyNode(region, KeyGroups.Id(partition), owner, nodes) is not { } node || !Reachable(state, node)) return await ownerAsk;
        // The owner is away or slow: whichever answers first, the owner or the partition's standby.
        var standbyAsk = system.ActorSelection(PartitionKeeper.StandbyPath(node, region, partition)).Ask<object>(read, options.Http.ReadTimeout, cancel);
        var first = await Task.WhenAny(ownerAsk, standbyAsk);
        var winner = first.IsCompletedSuccessfully ? first : first == ownerAsk ? standbyAsk : ownerAsk;
        var answer = await winner;
        if (winner == ownerAsk || answer is StandbyBehind) return answer;
        point.FromStandby = true;
        ContextLake.Platform.Telemetry.Metrics.StandbyReads.WithLabels(region).Inc();
        return answer;
    }

    private static bool Reachable(Akka.Cluster.ClusterEvent.CurrentClusterState state, Akka.Actor.Address node) =>
        state.Members.Any(m => m.Address == node) && state.Unreachable.All(m => m.Address != node);

    private async Task AskEntitiesAsync(int partition, List<(int Index, EntityKey Key)> keys, ReadPoint point, object?[] results, Problem?[] problems,
        System.Collections.Concurrent.ConcurrentBag<int> tooOld, System.Collections.Concurrent.ConcurrentBag<long> behind, CancellationToken cancel)
    {
        try
        {
            var reply = await AskPartitionAsync(EntityRegion.TypeName, partition, entities.ActorRef,
                new ReadEntities(KeyGroups.Id(partition), point.Epoch.N, keys.Select(k => k.Key).ToList()), point, cancel);
            switch (reply)
            {
                case EntityReads r:
                    for (var i = 0; i < keys.Count; i++) results[keys[i].Index] = EntityDocOf(r.Results[i]);
                    break;
                case ReadTooOld:
                    foreach (var (index, _) in keys) tooOld.Add(index);
                    break;
                case StandbyBehind b:
                    behind.Add(b.CommittedThrough);
                    break;
                default:
                    foreach (var (index, _) in keys) problems[index] = Unexpected($"entity partition {partition}", reply);
                    break;
            }
        }
        catch (AskTimeoutException)
        {
            foreach (var (index, key) in keys) problems[index] = NotReachable($"entity {key} (partition {partition})");
        }
    }

    private async Task AskViewsAsync(int partition, List<(int Index, ViewKeyRead Read, CatalogView View)> keys, ReadPoint point, IReadOnlyList<StateRead> reads,
        object?[] results, Problem?[] problems, System.Collections.Concurrent.ConcurrentBag<int> tooOld, System.Collections.Concurrent.ConcurrentBag<long> behind,
        CancellationToken cancel)
    {
        try
        {
            var reply = await AskPartitionAsync(ViewRegion.TypeName, partition, views.ActorRef,
                new ReadViewKeys(KeyGroups.Id(partition), point.Epoch.N, keys.Select(k => k.Read).ToList()), point, cancel);
            switch (reply)
            {
                case ViewKeyReads r:
                    for (var i = 0; i < keys.Count; i++)
                        (results[keys[i].Index], problems[keys[i].Index]) = ViewDocOf(r.Results[i], keys[i].Read, keys[i].View, reads[keys[i].Index].Where);
                    break;
                case ReadTooOld:
                    foreach (var (index, _, _) in keys) tooOld.Add(index);
                    break;
                case StandbyBehind b:
                    behind.Add(b.CommittedThrough);
                    break;
                default:
                    foreach (var (index, _, _) in keys) problems[index] = Unexpected($"view partition {partition}", reply);
                    break;
            }
        }
        catch (AskTimeoutException)
        {
            foreach (var (index, read, _) in keys) problems[index] = NotReachable($"{reads[index].Where}: view {read.View} key {read.Key} (partition {partition})");
        }
    }

    private static Problem? CheckEntity(EntityStateRead e)
    {
        if (!EntityKey.IsValidType(e.Type))
            return Problem.BadRequest("Invalid entity address", $"{e.Where}: type '{e.Type}' must be {Names.Rule}");
        if (e.Id.Length is 0 or > EntityKey.MaxIdLength)
            return Problem.BadRequest("Invalid entity address", $"{e.Where}: id must be 1 to {EntityKey.MaxIdLength} characters");
        return null;
    }

    private (ViewKeyRead?, CatalogView?, Problem?) CheckView(ViewStateRead v, DateTimeOffset at)
    {
        if (catalog.Find(v.View) is not { } view)
            return (null, null, new Problem(StatusCodes.Status404NotFound, "Unknown view",
                $"{v.Where}: there is no view named '{v.View}' (views: {string.Join(", ", catalog.All.Select(c => c.Name).Order())})"));
        if (view.Definition.IsVector)
            return (null, null, Problem.BadRequest("Invalid read", $"{v.Where}: view {v.View} is a vector view; search it with \"similar\", \"vector\" and \"k\""));
        if (!view.Ready)
            return (null, null, NotCaughtUp(v.Where, view));
        TimeSpan? span = null;
        if (!string.IsNullOrEmpty(v.Window))
        {
            if (!ReadPoints.TryParseDuration(v.Window, out var s))
                return (null, null, Problem.BadRequest("Invalid read", $"{v.Where}: window '{v.Window}' is not a duration such as 10m, 30s or 1h"));
            span = s;
        }
        if (v.Key.Length == 0)
            return (null, null, Problem.BadRequest("Invalid read", $"{v.Where}: key must not be empty"));
        return (new ViewKeyRead(view.Name, view.Incarnation, v.Key, at, span), view, null);
    }

    private static (object?, Problem?) ViewDocOf(ViewKeyValues values, ViewKeyRead read, CatalogView view, string where)
    {
        if (values.Refused is { } reason) return (null, Problem.BadRequest("Invalid read", $"{where}: {reason}"));
        if (values.Overflow is { } overflow) return (null, new Problem(StatusCodes.Status422UnprocessableEntity, "Aggregate overflow", $"{where}: {overflow}"));
        return (new ViewKeyDoc(read.View, read.Key, values.Values,
            values.WindowStart is { } ws && values.WindowEnd is { } we ? new WindowDoc(ws, we) : null,
            view.Definition.Window is null ? null : values.Late, values.Exists, values.Group), null);
    }

    private static EntityDoc EntityDocOf(EntityReadResult r) => new(r.Key.Type, r.Key.Id, r.Exists, r.State,
        new EventHistoryDoc(r.EventCount, r.LastEvent is { } e ? new LastEventDoc(e.Stream, e.Offset, e.EventTime, e.Data) : null),
        r.Positions);

    /// <summary>Adds <paramref name="item"/> to its partition's group (a list, or a set where keys repeat).</summary>
    private static void Add<TGroup, T>(Dictionary<int, TGroup> groups, int partition, T item) where TGroup : ICollection<T>, new()
    {
        if (!groups.TryGetValue(partition, out var group)) groups[partition] = group = new TGroup();
        group.Add(item);
    }

    /// <summary>
    /// The k entities of a vector view most similar to <paramref name="vector"/> at the read point: every
    /// partition answers its own top k at the epoch, and the answers are merged.
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
                ViewSql.ValidateCondition(ViewSql.ParseCondition(where), view.Definition.Source, catalog.Schemas.Columns);
            }
            catch (ViewDefinitionException ex)
            {
                return (null, Problem.BadRequest("Invalid read", $"{at}.where: {ex.Message}"));
            }
        }
        if (!view.Ready) return (null, NotCaughtUp(at, view));

        try
        {
            var asks = Enumerable.Range(0, spec.Partitions).Select(p =>
                vectors.ActorRef.Ask<object>(new SearchVectors(new VectorPartitionAddress(view.Name, view.Incarnation, p).ToString(),
                    point.Epoch.N, query, k, where, exact), options.Http.ReadTimeout, cancel));
            var replies = await Task.WhenAll(asks);
            var top = new TopK(k);
            var fields = new Dictionary<string, IReadOnlyDictionary<string, JsonElement>>(StringComparer.Ordinal);
            foreach (var reply in replies)
            {
                switch (reply)
                {
                    case VectorNeighbors { Refused: { } reason }:
                        return (null, Problem.BadRequest("Invalid read", $"{at}: {reason}"));
                    case VectorNeighbors n:
                        foreach (var hit in n.Hits)
                        {
                            top.Offer(new Neighbor(hit.Id, hit.Score));
                            fields[hit.Id] = hit.Fields;
                        }
                        break;
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

    private static Problem NotCaughtUp(string where, CatalogView view) => new(StatusCodes.Status503ServiceUnavailable, "View not caught up",
        $"{where}: view {view.Name} is still backfilling from the journal ({view.Entry.BackfillDone} of {view.Entry.BackfillTotal} entity partitions done); see GET /v1/views/{view.Name}");

    private Problem TooOld(ReadPoint point) => new(StatusCodes.Status410Gone, "Epoch no longer readable",
        $"epoch {point.Epoch.N} is older than the vector partitions keep (setting ContextLake:Epochs:History, {options.Epochs.History}, and what a partition holds " +
        "since it last started); similarity searches are not answered from the journal, entities and view keys are");

    private Problem NotReachable(string what) => new(StatusCodes.Status503ServiceUnavailable, "State not reachable",
        $"{what} did not answer within {options.Http.ReadTimeout.TotalSeconds:0.#}s (setting ContextLake:Http:ReadTimeout)");

    private static Problem Unexpected(string where, object reply) => new(StatusCodes.Status500InternalServerError, "Unexpected answer",
        $"{where}: the owning partition answered {reply.GetType().Name}");
}
