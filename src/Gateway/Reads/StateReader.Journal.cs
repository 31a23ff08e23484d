// Reads answered from the journal instead of the partitions' memory: at an epoch older than Epochs:History (or
// than what a partition holds since it last started), and, for reconciliation, by event time. The keys asked
// are grouped by partition and each partition's rows are read once for all of them (PartitionJournal); the
// changes collected (a JournalState) can then be cut any number of ways without reading the journal again.
using Akka.Actor;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;
using ContextLake.Views.Catalog;
using ContextLake.Views.Partitions;

namespace ContextLake.Gateway.Reads;

/// <summary>Which journaled changes a read from the journal takes.</summary>
public abstract record JournalCut
{
    public abstract bool Includes(string stream, long offset, DateTimeOffset eventTime);

    /// <summary>The changes epoch (n, V) commits: what a read at that epoch answered.</summary>
    public sealed record AtEpoch(Epoch Epoch) : JournalCut
    {
        public override bool Includes(string stream, long offset, DateTimeOffset eventTime) => Epoch.Covers(stream, offset);
    }

    /// <summary>The changes of every event whose event time is at or before <paramref name="Time"/>, however late it arrived.</summary>
    public sealed record ByEventTime(DateTimeOffset Time) : JournalCut
    {
        public override bool Includes(string stream, long offset, DateTimeOffset eventTime) => eventTime <= Time;
    }
}

/// <summary>The journaled changes of a set of keys: each entity's events, each view key's changes and, when asked, their source events' times.</summary>
public sealed class JournalState
{
    internal Dictionary<string, List<IngestEvent>> Entities { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, List<ViewKeyHistory.SourcedDelta>> ViewKeys { get; } = new(StringComparer.Ordinal);

    internal Dictionary<(string Stream, long Offset), DateTimeOffset> SourceTimes { get; } = new();
}

public sealed partial class StateReader
{
    /// <summary>
    /// Reads the changes of every key <paramref name="reads"/> name from the journal, one pass per partition; with
    /// <paramref name="eventTimes"/>, also the event time of each view change's source event (for <see cref="JournalCut.ByEventTime"/>).
    /// Reads that name nothing readable (an unknown view, a bad address) are skipped here and refused by <see cref="ReadFromJournal"/>.
    /// </summary>
    public async Task<JournalState> LoadFromJournalAsync(IEnumerable<StateRead> reads, bool eventTimes, CancellationToken cancel)
    {
        var partitions = options.State.Partitions;
        var entityKeys = new Dictionary<int, HashSet<string>>();
        var viewKeys = new Dictionary<int, HashSet<string>>();
        foreach (var read in reads)
        {
            switch (read)
            {
                case EntityStateRead e when CheckEntity(e) is null:
                    var address = new EntityKey(e.Type, e.Id).ToString();
                    AddTo(entityKeys, KeyGroups.PartitionOf(address, partitions), address);
                    break;
                case ViewStateRead v when catalog.Find(v.View) is { } view:
                    var key = new ViewKeyAddress(view.Name, view.Incarnation, v.Key);
                    AddTo(viewKeys, key.PartitionOf(partitions), key.ToString());
                    break;
            }
        }

        var state = new JournalState();
        var entityLoads = entityKeys.Select(p => EntityHistory.EventsOfAsync(system, p.Key, p.Value, cancel)).ToList();
        var viewLoads = viewKeys.Select(p => ViewKeyHistory.DeltasOfAsync(system, p.Key, p.Value, cancel)).ToList();
        foreach (var loaded in await Task.WhenAll(entityLoads))
        foreach (var (address, events) in loaded)
            state.Entities[address] = events;
        foreach (var loaded in await Task.WhenAll(viewLoads))
        foreach (var (address, deltas) in loaded)
            state.ViewKeys[address] = deltas;
        if (!eventTimes) return state;

        // A view change is dated by the event that derived it, journaled by the entity partition it came from.
        var wanted = new Dictionary<int, HashSet<(string, long)>>();
        foreach (var deltas in state.ViewKeys.Values)
        foreach (var d in deltas)
            AddTo(wanted, d.Source, (d.Delta.Stream, d.Delta.Offset));
        foreach (var times in await Task.WhenAll(wanted.Select(w => EntityHistory.EventTimesAsync(system, w.Key, w.Value, cancel))))
        foreach (var (source, time) in times)
            state.SourceTimes[source] = time;
        return state;
    }

    /// <summary>Answers <paramref name="reads"/> from <paramref name="state"/>, taking the changes <paramref name="cut"/> includes; windows end at <paramref name="at"/>.</summary>
    public (object?[] Results, Problem?[] Problems) ReadFromJournal(JournalState state, IReadOnlyList<StateRead> reads, JournalCut cut, DateTimeOffset at)
    {
        var results = new object?[reads.Count];
        var problems = new Problem?[reads.Count];
        for (var i = 0; i < reads.Count; i++)
        {
            switch (reads[i])
            {
                case EntityStateRead e:
                    if ((problems[i] = CheckEntity(e)) is not null) continue;
                    var key = new EntityKey(e.Type, e.Id);
                    var events = state.Entities.GetValueOrDefault(key.ToString()) ?? [];
                    results[i] = EntityDocOf(EntityReadResult.Of(key, EntityHistory.Fold(events, ev => cut.Includes(ev.Stream, ev.Offset, ev.EventTime))));
                    break;
                case ViewStateRead v:
                    var (read, view, problem) = CheckView(v, at);
                    if ((problems[i] = problem) is not null) continue;
                    var deltas = state.ViewKeys.GetValueOrDefault(new ViewKeyAddress(view!.Name, view.Incarnation, v.Key).ToString()) ?? [];
                    var aggregate = ViewKeyHistory.Fold(view.Definition, deltas, d => cut.Includes(d.Delta.Stream, d.Delta.Offset,
                        state.SourceTimes.TryGetValue((d.Delta.Stream, d.Delta.Offset), out var time) ? time : DateTimeOffset.MinValue));
                    (results[i], problems[i]) = ViewDocOf(ViewReads.Render(view.Definition, aggregate, read!), read!, view, v.Where);
                    break;
            }
        }
        return (results, problems);
    }

    private static void AddTo<T>(Dictionary<int, HashSet<T>> sets, int partition, T item)
    {
        if (!sets.TryGetValue(partition, out var set)) sets[partition] = set = new HashSet<T>();
        set.Add(item);
    }

    /// <summary>The reads at <paramref name="indices"/> answered from the journal at the read point's epoch (which the partitions no longer hold).</summary>
    private async Task ReadFromJournalAsync(IReadOnlyList<StateRead> reads, IReadOnlyList<int> indices, ReadPoint point, object?[] results, Problem?[] problems,
        CancellationToken cancel)
    {
        var asked = indices.Select(i => reads[i]).ToList();
        var state = await LoadFromJournalAsync(asked, eventTimes: false, cancel);
        var (answers, refused) = ReadFromJournal(state, asked, new JournalCut.AtEpoch(point.Epoch), point.At);
        for (var i = 0; i < indices.Count; i++)
        {
            results[indices[i]] = answers[i];
            problems[indices[i]] = refused[i];
        }
        point.FromJournal = true;
    }
}
