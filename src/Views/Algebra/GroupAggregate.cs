// The incrementally maintained aggregates of one group key of one view, folded from weighted rows and read per window.
using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Algebra;

/// <summary>The aggregates of one group as of a read; <see cref="Window"/> is null for views without a window.</summary>
public sealed record GroupValues(IReadOnlyDictionary<string, JsonElement> Values, WindowBounds? Window, long Late)
{
    private byte[]? _json;

    /// <summary>The values as one compact JSON object (UTF-8), written on first use: a windowless key's values are shared
    /// by every reader of its version, so a Redis GET of it is a copy.</summary>
    public byte[] Json => _json ??= Write(Values);

    private static byte[] Write(IReadOnlyDictionary<string, JsonElement> values)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        ContextLake.Platform.Serialization.JsonObjects.Write(buffer, values);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// The event-time range a read covered: [Start, End) for tumbling, hopping and session windows;
/// (Start, End] for a session read with an explicit span, which looks back from the read time.
/// </summary>
public sealed record WindowBounds(DateTimeOffset Start, DateTimeOffset End);

/// <summary>A read asked for a span the view cannot answer; the message is meant for the user who asked.</summary>
public sealed class InvalidWindowReadException(string message) : Exception(message);

/// <summary>A SUM or AVG of the key is outside the decimal range: its value cannot be answered (never a wrong number).</summary>
public sealed class AggregateOverflowException(string view, string column)
    : Exception($"view {view}: {column} overflowed the numeric range (a sum of decimals must stay below 7.9e28 in magnitude), so it has no value to answer");

/// <summary>
/// Every aggregate is a commutative group or monoid over signed weights, so non-late deltas may arrive in any order
/// and any batching. State lives in persistent (immutable) structures: <see cref="Clone"/> is O(1) and an
/// <see cref="Apply"/> that throws leaves the aggregate as it was; SUM and AVG keep exact totals, so the state after a set
/// of deltas is the same in any order, and reading a total outside the decimal range throws
/// <see cref="AggregateOverflowException"/> until later deltas bring it back. Not thread-safe for writers;
/// clones may be used from other threads.
/// </summary>
public sealed class GroupAggregate
{
    private readonly ViewDefinition _view;
    private readonly WindowLayout _layout;
    private ImmutableSortedSet<Pane> _panes;
    // A view without a window has one pane (all of time): held on its own, not in the sorted set.
    private Pane? _whole;
    private long _late;
    private long? _max;
    // A windowless view's values, computed on the first read. A published version is never applied to again (the owner
    // folds into a clone), so readers on any thread share it; Apply forgets it for the versions still being built.
    private GroupValues? _wholeValues;

    public GroupAggregate(ViewDefinition view)
        : this(view, WindowLayout.For(view), EmptyPanes, null, 0, null)
    {
    }

    private static readonly ImmutableSortedSet<Pane> EmptyPanes = ImmutableSortedSet.Create<Pane>(PaneByStart.Instance);

    private GroupAggregate(ViewDefinition view, WindowLayout layout, ImmutableSortedSet<Pane> panes, Pane? whole, long late, long? max)
    {
        _view = view;
        _layout = layout;
        _panes = panes;
        _whole = whole;
        _late = late;
        _max = max;
    }

    /// <summary>Deltas refused because every window they could belong to had closed beyond the allowed lateness.</summary>
    public long LateEvents => _late;

    public void Apply(ViewDelta delta) => Apply([delta]);

    /// <summary>
    /// Applies <paramref name="deltas"/> in order, as one batch: a view without a window folds them all into one copy of its
    /// pane. When a delta is refused (it does not fit the view), none of the batch is applied.
    /// </summary>
    public void Apply(ReadOnlySpan<ViewDelta> deltas)
    {
        foreach (var delta in deltas)
        {
            ArgumentNullException.ThrowIfNull(delta);
            if (delta.Arguments.Count != _view.Aggregates.Count)
                throw new ArgumentException(
                    $"view {_view.Name}: a delta carries {delta.Arguments.Count} arguments for {_view.Aggregates.Count} aggregates", nameof(deltas));
        }
        _wholeValues = null;
        if (_layout.Kind == WindowKind.None) ApplyWhole(deltas);
        else
            foreach (var delta in deltas) ApplyWindowed(delta);
    }

    private void ApplyWhole(ReadOnlySpan<ViewDelta> deltas)
    {
        PaneBuilder? builder = null;
        var max = _max;
        foreach (var delta in deltas)
        {
            if (delta.Weight == 0) continue;
            builder ??= new PaneBuilder(_view.Aggregates, _whole ?? Pane.Empty(0, _view.Aggregates.Count));
            builder.Fold(delta);
            var t = WindowLayout.Ticks(delta.EventTime);
            max = max is { } latest ? Math.Max(latest, t) : t;
        }
        if (builder is null) return;
        var whole = builder.Build();
        _whole = whole.IsEmpty ? null : whole;
        _max = max;
    }

    private void ApplyWindowed(ViewDelta delta)
    {
        if (delta.Weight == 0) return;
        var t = WindowLayout.Ticks(delta.EventTime);
        if (_max is { } seen && _layout.IsLate(t, seen))
        {
            _late++;
            return;
        }

        var start = _layout.PaneStart(t);
        var panes = _panes;
        var pane = Pane.Empty(start, _view.Aggregates.Count);
        if (panes.TryGetValue(Pane.Probe(start), out var existing))
        {
            pane = existing;
            panes = panes.Remove(existing);
        }
        var builder = new PaneBuilder(_view.Aggregates, pane);
        builder.Fold(delta);
        var folded = builder.Build();
        if (!folded.IsEmpty) panes = panes.Add(folded);

        var max = _max is { } m ? Math.Max(m, t) : t;
        if (max != _max)
        {
            while (panes.Count > 0 && _layout.IsExpired(panes.Min!.Start, max))
                panes = panes.Remove(panes.Min);
        }
        _panes = panes;
        _max = max;
    }

    public GroupAggregate Clone() => new(_view, _layout, _panes, _whole, _late, _max);

    private IEnumerable<Pane> AllPanes => _whole is { } whole ? [whole] : _panes;

    /// <summary>
    /// Reads the aggregates at event time <paramref name="at"/>. Without <paramref name="span"/>: the window holding
    /// <paramref name="at"/> (tumbling), the hop window ending at the first slide boundary after it (hopping), or the
    /// latest session with rows at or before it (session; Window is null when there is none). With a span: the span
    /// ending at that boundary (tumbling, hopping) or at <paramref name="at"/> itself (session).
    /// </summary>
    public GroupValues Read(DateTimeOffset at, TimeSpan? span)
    {
        if (span is { } s) _layout.CheckSpan(_view.Name, s);
        var t = WindowLayout.Ticks(at);
        switch (_layout.Kind)
        {
            case WindowKind.None:
                return _wholeValues ??= Values(_whole is { } whole ? [whole] : [], null);
            case WindowKind.Tumbling:
            {
                var end = WindowLayout.FloorTo(t, _layout.Size) + _layout.Size;
                return Range(end - (span?.Ticks ?? _layout.Size), end);
            }
            case WindowKind.Hopping:
            {
                var end = WindowLayout.FloorTo(t, _layout.Slide) + _layout.Slide;
                return Range(end - (span?.Ticks ?? _layout.Size), end);
            }
            case WindowKind.Session when span is { } lookBack:
            {
                var from = t - lookBack.Ticks;
                var panes = Between(from + 1, t + 1).ToList();
                return Values(panes, new WindowBounds(WindowLayout.Time(from), WindowLayout.Time(t)));
            }
            case WindowKind.Session:
                return Session(t);
            default:
                throw new InvalidOperationException($"view {_view.Name}: unknown window kind {_layout.Kind}");
        }
    }

    public GroupAggregateSnapshot ToSnapshot() => new(
        _late,
        _max is { } m ? WindowLayout.Time(m) : null,
        AllPanes.Select(p => new PaneSnapshot(
            WindowLayout.Time(p.Start),
            p.Rows,
            p.States.Select((s, i) => new AggregateStateSnapshot(
                _view.Aggregates[i].Function.ToString(),
                s.Count,
                s.Sum.Beyond is null && !s.Sum.Lost ? s.Sum.Value : 0m,
                s.Values.Entries.Select(e => new WeightedValueSnapshot(e.Key.Value.ToJson(), e.Weight, e.Key.Version)).ToList(),
                s.Sum.Lost,
                s.Sum.Beyond?.ToString(CultureInfo.InvariantCulture))).ToList()))
            .ToList());

    /// <summary>Refuses a snapshot whose aggregates do not line up with <paramref name="view"/>'s.</summary>
    public static GroupAggregate FromSnapshot(ViewDefinition view, GroupAggregateSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var layout = WindowLayout.For(view);
        var builder = ImmutableSortedSet.CreateBuilder(PaneByStart.Instance);
        foreach (var p in snapshot.Panes)
        {
            if (p.Aggregates.Count != view.Aggregates.Count)
                throw new ArgumentException($"view {view.Name}: snapshot pane has {p.Aggregates.Count} aggregates, the view {view.Aggregates.Count}");
            var states = new AggState[p.Aggregates.Count];
            for (var i = 0; i < states.Length; i++)
            {
                var a = p.Aggregates[i];
                var function = view.Aggregates[i].Function;
                if (a.Function != function.ToString())
                    throw new ArgumentException($"view {view.Name}: snapshot aggregate {i} is {a.Function}, the view's is {function}");
                var values = Multiset.FromEntries(a.Values.Select(v => new Weighted(
                    new EntryKey(v.Version, ValueKey.From(v.Value)), v.Weight)));
                var sum = a.Overflowed ? ExactSum.Unknown
                    : a.Exact is { } units ? ExactSum.OfUnits(BigInteger.Parse(units, CultureInfo.InvariantCulture))
                    : ExactSum.Of(a.Sum);
                states[i] = new AggState(a.Count, sum, values);
            }
            var pane = new Pane(WindowLayout.Ticks(p.Start), p.Rows, states);
            if (pane.IsEmpty) continue;
            if (!builder.Add(pane))
                throw new ArgumentException($"view {view.Name}: snapshot holds the pane at {p.Start:O} twice");
        }
        var max = snapshot.MaxEventTime is { } m ? WindowLayout.Ticks(m) : (long?)null;
        if (layout.Kind == WindowKind.None)
        {
            if (builder.Count > 1) throw new ArgumentException($"view {view.Name}: snapshot holds {builder.Count} panes for a view without a window");
            return new GroupAggregate(view, layout, EmptyPanes, builder.Count == 1 ? builder.Min : null, snapshot.LateEvents, max);
        }
        return new GroupAggregate(view, layout, builder.ToImmutable(), null, snapshot.LateEvents, max);
    }

    private GroupValues Range(long from, long to) =>
        Values(Between(from, to).ToList(), new WindowBounds(WindowLayout.Time(from), WindowLayout.Time(to)));

    /// <summary>Panes whose start lies in [from, to), found by binary search rather than a scan of all history.</summary>
    private IEnumerable<Pane> Between(long from, long to)
    {
        var i = _panes.IndexOf(Pane.Probe(from));
        if (i < 0) i = ~i;
        for (; i < _panes.Count; i++)
        {
            var p = _panes[i];
            if (p.Start >= to) yield break;
            yield return p;
        }
    }

    /// <summary>Sessions are formed by instants that still hold rows; a retraction waiting for its insertion does not open one.</summary>
    private GroupValues Session(long at)
    {
        var i = _panes.IndexOf(Pane.Probe(at));
        i = i >= 0 ? i : ~i - 1;
        while (i >= 0 && _panes[i].Rows <= 0) i--;
        if (i < 0) return Values([], null);

        var last = _panes[i].Start;
        var first = last;
        for (var j = i - 1; j >= 0; j--)
        {
            var p = _panes[j];
            if (p.Rows <= 0) continue;
            if (first - p.Start >= _layout.Size) break;
            first = p.Start;
        }
        var panes = Between(first, last + 1).ToList();
        return Values(panes, new WindowBounds(WindowLayout.Time(first), WindowLayout.Time(last + _layout.Size)));
    }

    private GroupValues Values(IReadOnlyList<Pane> panes, WindowBounds? window)
    {
        var values = new Dictionary<string, JsonElement>(_view.Aggregates.Count);
        for (var i = 0; i < _view.Aggregates.Count; i++)
        {
            var aggregate = _view.Aggregates[i];
            try
            {
                values[aggregate.Alias] = PaneReads.Read(aggregate.Function, panes.Select(p => p.States[i]).ToList());
            }
            catch (OverflowException)
            {
                throw new AggregateOverflowException(_view.Name, $"{aggregate.Function.ToString().ToUpperInvariant()} AS {aggregate.Alias}");
            }
        }
        return new GroupValues(values, window, _late);
    }
}
