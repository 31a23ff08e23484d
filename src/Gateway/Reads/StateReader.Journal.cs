// Reads answered from the journal instead of the partitions' memory: at an epoch older than Epochs:History (or
// than what a partition holds since it last started), and, for reconciliation, by event time. The keys asked
// are grouped by partition and each partition's rows are read once for all of them (PartitionJournal); the
// changes collected (a JournalState) can then be cut any number of ways without reading the journal again,
// each key folded forward from one cut to the next. A key's changes are folded in journal order among those a
// cut adds: every aggregate is order-independent except a windowed view's lateness (a change is late against the
// newest event time its key had when it was applied), where a key whose changes arrived far out of event-time
// order across streams can count lateness differently than the partition did live.
using Akka.Actor;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;
using ContextLake.Views.Algebra;
using ContextLake.Views.Catalog;
using ContextLake.Views.Partitions;

namespace ContextLake.Gateway.Reads;

/// <summary>
/// Which journaled changes a read from the journal takes. Cuts of one kind are ordered (<see cref="Rank"/>), and a later one
/// takes every change an earlier one takes: epochs never go backward, and time only moves forward.
/// </summary>
public abstract record JournalCut
{
    public abstract bool Includes(string stream, long offset, DateTimeOffset eventTime);

    public abstract long Rank { get; }

    /// <summary>The changes epoch (n, V) commits: what a read at that epoch answered.</summary>
    public sealed record AtEpoch(Epoch Epoch) : JournalCut
    {
        public override bool Includes(string stream, long offset, DateTimeOffset eventTime) => Epoch.Covers(stream, offset);

        public override long Rank => Epoch.N;
    }

    /// <summary>The changes of every event whose event time is at or before <paramref name="Time"/>, however late it arrived.</summary>
    public sealed record ByEventTime(DateTimeOffset Time) : JournalCut
    {
        public override bool Includes(string stream, long offset, DateTimeOffset eventTime) => eventTime <= Time;

        public override long Rank => Time.UtcTicks;
    }
}

/// <summary>Reads to answer from the journal at one cut; windows end at <paramref name="At"/>.</summary>
public sealed record JournalAsk(IReadOnlyList<StateRead> Reads, JournalCut Cut, DateTimeOffset At);

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
                    Add(entityKeys, KeyGroups.PartitionOf(address, partitions), address);
                    break;
                case ViewStateRead v when catalog.Find(v.View) is { } view:
                    var key = new ViewKeyAddress(view.Name, view.Incarnation, v.Key);
                    Add(viewKeys, key.PartitionOf(partitions), key.ToString());
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
            Add(wanted, d.Source, (d.Delta.Stream, d.Delta.Offset));
        foreach (var times in await Task.WhenAll(wanted.Select(w => EntityHistory.EventTimesAsync(system, w.Key, w.Value, cancel))))
        foreach (var (source, time) in times)
            state.SourceTimes[source] = time;
        return state;
    }

    /// <summary>
    /// Answers each ask from <paramref name="state"/>, taking the changes its cut includes (all cuts of one kind). The asks are
    /// answered in the order of their cuts, and each key's changes are folded forward from one cut to the next, in journal
    /// order among those a cut adds: so a thousand decisions on one hot key cost its changes once, not a thousand times.
    /// </summary>
    public IReadOnlyList<(object?[] Results, Problem?[] Problems)> ReadFromJournal(JournalState state, IReadOnlyList<JournalAsk> asks)
    {
        if (asks.Select(a => a.Cut.GetType()).Distinct().Count() > 1) throw new ArgumentException("the asks' cuts must be of one kind", nameof(asks));
        var answers = new (object?[], Problem?[])[asks.Count];
        var entities = new Dictionary<string, (KeyCursor Cursor, EntityValue? Value)>(StringComparer.Ordinal);
        var viewKeys = new Dictionary<string, (KeyCursor Cursor, GroupAggregate? Aggregate)>(StringComparer.Ordinal);
        foreach (var index in Enumerable.Range(0, asks.Count).OrderBy(i => asks[i].Cut.Rank))
        {
            var (reads, cut, at) = asks[index];
            var results = new object?[reads.Count];
            var problems = new Problem?[reads.Count];
            for (var i = 0; i < reads.Count; i++)
            {
                switch (reads[i])
                {
                    case EntityStateRead e:
                    {
                        if ((problems[i] = CheckEntity(e)) is not null) continue;
                        var key = new EntityKey(e.Type, e.Id);
                        var address = key.ToString();
                        var events = state.Entities.GetValueOrDefault(address) ?? [];
                        if (!entities.TryGetValue(address, out var entity))
                            entity = (new KeyCursor(events.Select(ev => (ev.Stream, ev.Offset, ev.EventTime)).ToList()), null);
                        foreach (var added in entity.Cursor.Advance(cut)) entity.Value = EntityValue.Apply(entity.Value, events[added], out _);
                        entities[address] = entity;
                        results[i] = EntityDocOf(EntityReadResult.Of(key, entity.Value));
                        break;
                    }
                    case ViewStateRead v:
                    {
                        var (read, view, problem) = CheckView(v, at);
                        if ((problems[i] = problem) is not null) continue;
                        var address = new ViewKeyAddress(view!.Name, view.Incarnation, v.Key).ToString();
                        var deltas = state.ViewKeys.GetValueOrDefault(address) ?? [];
                        if (!viewKeys.TryGetValue(address, out var key))
                            key = (new KeyCursor(deltas.Select(d => (d.Delta.Stream, d.Delta.Offset,
                                state.SourceTimes.TryGetValue((d.Delta.Stream, d.Delta.Offset), out var time) ? time : DateTimeOffset.MinValue)).ToList()), null);
                        var added = key.Cursor.Advance(cut);
                        if (added.Count > 0)
                        {
                            key.Aggregate ??= new GroupAggregate(view.Definition);
                            key.Aggregate.Apply(added.SelectMany(a => deltas[a].Delta.Deltas).ToArray());
                        }
                        viewKeys[address] = key;
                        (results[i], problems[i]) = ViewDocOf(ViewReads.Render(view.Definition, key.Aggregate, read!), read!, view, v.Where);
                        break;
                    }
                }
            }
            answers[index] = (results, problems);
        }
        return answers;
    }

    /// <summary>
    /// Which of one key's changes (in journal order) the cuts so far include: per stream by offset for epochs, by event time for
    /// times; <see cref="Advance"/> returns those a larger cut adds, in journal order.
    /// </summary>
    private sealed class KeyCursor
    {
        private readonly IReadOnlyList<(string Stream, long Offset, DateTimeOffset Time)> _changes;
        private readonly Dictionary<string, int[]> _byStream = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _streamNext = new(StringComparer.Ordinal);
        private int[]? _byTime;
        private int _timeNext;

        public KeyCursor(IReadOnlyList<(string Stream, long Offset, DateTimeOffset Time)> changes)
        {
            _changes = changes;
            foreach (var group in Enumerable.Range(0, changes.Count).GroupBy(i => changes[i].Stream, StringComparer.Ordinal))
            {
                _byStream[group.Key] = group.OrderBy(i => changes[i].Offset).ToArray();
                _streamNext[group.Key] = 0;
            }
        }

        public List<int> Advance(JournalCut cut)
        {
            var added = new List<int>();
            if (cut is JournalCut.ByEventTime byTime)
            {
                _byTime ??= Enumerable.Range(0, _changes.Count).OrderBy(i => _changes[i].Time).ToArray();
                while (_timeNext < _byTime.Length && _changes[_byTime[_timeNext]].Time <= byTime.Time) added.Add(_byTime[_timeNext++]);
            }
            else
            {
                foreach (var (stream, indices) in _byStream)
                {
                    var next = _streamNext[stream];
                    while (next < indices.Length && cut.Includes(stream, _changes[indices[next]].Offset, _changes[indices[next]].Time)) added.Add(indices[next++]);
                    _streamNext[stream] = next;
                }
            }
            added.Sort();
            return added;
        }
    }

    /// <summary>The reads at <paramref name="indices"/> answered from the journal at the read point's epoch (which the partitions no longer hold).</summary>
    private async Task ReadFromJournalAsync(IReadOnlyList<StateRead> reads, IReadOnlyList<int> indices, ReadPoint point, object?[] results, Problem?[] problems,
        CancellationToken cancel)
    {
        var asked = indices.Select(i => reads[i]).ToList();
        var state = await LoadFromJournalAsync(asked, eventTimes: false, cancel);
        var (answers, refused) = ReadFromJournal(state, [new JournalAsk(asked, new JournalCut.AtEpoch(point.Epoch), point.At)])[0];
        for (var i = 0; i < indices.Count; i++)
        {
            results[indices[i]] = answers[i];
            problems[indices[i]] = refused[i];
        }
        point.FromJournal = true;
    }
}
