// Reads of view keys at an epoch for subscriptions, shared: a hundred subscribers of one key changed in
// one epoch cost two reads (before and after), not two hundred. A value at an epoch never changes, so
// sharing is always right; the memo is dropped whenever it grows past its bound.
using System.Collections.Concurrent;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;
using ContextLake.Views.Catalog;

namespace ContextLake.Gateway.Subscriptions;

public sealed class SharedViewReads(StateReader reader)
{
    /// <summary>Reads remembered at most; enough for every key of several recent epochs.</summary>
    private const int MaxRemembered = 20_000;

    private readonly ConcurrentDictionary<(string View, long Incarnation, string Key, long Epoch), Task<(ViewKeyDoc?, Problem?)>> _reads = new();

    /// <summary>The key's values at <paramref name="epoch"/>, windows ending at the epoch's commit time (as an as-of read does).</summary>
    public Task<(ViewKeyDoc?, Problem?)> ReadAsync(CatalogView view, string key, Epoch epoch, CancellationToken cancel)
    {
        if (_reads.Count > MaxRemembered) _reads.Clear();
        // Not cancelled by one subscriber leaving: others may wait for the same read (it is bounded by Http:ReadTimeout).
        var read = _reads.GetOrAdd((view.Name, view.Incarnation, key, epoch.N),
            _ => reader.ReadViewAsync(view.Name, key, null, new ReadPoint(epoch, epoch.CommittedAt, false), "subscription", CancellationToken.None));
        if (read.IsCompleted && read.Result.Item2 is not null) _reads.TryRemove(new((view.Name, view.Incarnation, key, epoch.N), read));
        return read.WaitAsync(cancel);
    }
}
