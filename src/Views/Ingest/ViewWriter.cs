// Sends row changes to the view actors they touch: projects each change through every view of its
// entity type, groups the deltas per group key (and vector changes per vector partition), and waits
// until each has journaled its part.
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Ingest;
using ContextLake.Views.Actors;
using ContextLake.Views.Catalog;
using ContextLake.Views.Projection;
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Ingest;

public sealed class ViewWriter(IActorRef viewRegion, IActorRef vectorRegion, ViewCatalog catalog, TimeSpan askTimeout, ILoggingAdapter log) : IChangeSink
{
    public Task ApplyAsync(IReadOnlyList<RowChange> changes, CancellationToken cancel) =>
        ApplyAsync(changes, catalog.All, cancel);

    public async Task ApplyAsync(IReadOnlyList<RowChange> changes, IReadOnlyCollection<CatalogView> views, CancellationToken cancel)
    {
        if (changes.Count == 0 || views.Count == 0) return;
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
    }
}
