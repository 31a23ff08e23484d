// Sends row changes to the view actors they touch: projects each change through every view of its
// entity type, groups the deltas per group key (and vector changes per vector partition), and waits
// until each has journaled its part. For live runs it then publishes which aggregate view keys changed
// (ViewChangeNotice), before the watermark is reported.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Ingest;
using ContextLake.Views.Actors;
using ContextLake.Views.Catalog;
using ContextLake.Views.Projection;
using ContextLake.Views.Subscriptions;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Ingest;

public sealed class ViewWriter(IActorRef viewRegion, IActorRef vectorRegion, ViewCatalog catalog, TimeSpan askTimeout, ILoggingAdapter log, IActorRef mediator) : IChangeSink
{
    public async Task ApplyAsync(string stream, long upTo, IReadOnlyList<RowChange> changes, CancellationToken cancel)
    {
        var touched = await ApplyAsync(changes, catalog.All, cancel);
        var keys = new List<ChangedViewKey>(touched.Count);
        foreach (var (address, deltas) in touched)
        {
            var key = ViewKeyAddress.Parse(address);
            keys.Add(new ChangedViewKey(key.View, key.Incarnation, key.Key, deltas.Select(d => d.Offset).Distinct().ToList()));
        }
        mediator.Tell(new Publish(SubscriptionTopics.ViewChanges, new ViewChangeNotice(stream, upTo, keys)));
    }

    /// <summary>Applies the changes to <paramref name="views"/>; returns the deltas sent, per aggregate view key address.</summary>
    public async Task<IReadOnlyDictionary<string, List<KeyDeltas>>> ApplyAsync(IReadOnlyList<RowChange> changes, IReadOnlyCollection<CatalogView> views, CancellationToken cancel)
    {
        if (changes.Count == 0 || views.Count == 0) return new Dictionary<string, List<KeyDeltas>>();
        var bySource = views.ToLookup(v => v.Definition.Source, StringComparer.Ordinal);
        var byKey = new Dictionary<string, List<KeyDeltas>>(StringComparer.Ordinal);
        var byPartition = new Dictionary<string, List<VectorChange>>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            foreach (var view in bySource[change.EntityType])
            {
                if (view.Definition.Vector is { } spec)
                {
                    if (VectorProjector.Project(view.Definition, change) is not { } vectorChange) continue;
                    var partition = new VectorPartitionAddress(view.Name, view.Incarnation, VectorPartitionAddress.PartitionOf(change.EntityId, spec.Partitions)).ToString();
                    if (!byPartition.TryGetValue(partition, out var changesOfPartition)) byPartition[partition] = changesOfPartition = new List<VectorChange>();
                    changesOfPartition.Add(vectorChange);
                    continue;
                }
                foreach (var (key, deltas) in ViewProjector.Project(view.Definition, change))
                {
                    var address = new ViewKeyAddress(view.Name, view.Incarnation, key).ToString();
                    if (!byKey.TryGetValue(address, out var list)) byKey[address] = list = new List<KeyDeltas>();
                    list.Add(deltas);
                }
            }
        }

        await Task.WhenAll(byKey.Select(kv =>
            Retry.AskAsync<ViewDeltasApplied>(viewRegion, new ApplyViewDeltas(kv.Key, kv.Value), askTimeout, log, $"view key {kv.Key}", cancel))
            .Concat(byPartition.Select(kv =>
                Retry.AskAsync<ViewDeltasApplied>(vectorRegion, new ApplyVectorChanges(kv.Key, kv.Value), askTimeout, log, $"vector partition {kv.Key}", cancel))));
        return byKey;
    }
}
