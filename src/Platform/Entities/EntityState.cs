// The state of one entity: per-field last-writer-wins, delete tombstones, event history summary.
// Every rule is a max over EventVersion, so applying the same events in any order gives the same state.
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.Entities;

public sealed record FieldCell(JsonElement Value, EventVersion Version);

public sealed class EntityState
{
    private readonly Dictionary<string, FieldCell> _fields = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _streamOffsets = new(StringComparer.Ordinal);

    public EventVersion? Tombstone { get; private set; }
    public EventVersion? LastUpsert { get; private set; }
    public long EventCount { get; private set; }
    public IngestEvent? LastEvent { get; private set; }

    public IReadOnlyDictionary<string, FieldCell> Fields => _fields;

    /// <summary>Highest offset applied per stream: sources deliver each stream to an entity in offset order.</summary>
    public IReadOnlyDictionary<string, long> StreamOffsets => _streamOffsets;

    public bool Exists =>
        (LastUpsert is { } u && (Tombstone is not { } t1 || u > t1)) ||
        (LastEvent is { } e && (Tombstone is not { } t2 || e.Version > t2));

    public bool HasApplied(string stream, long offset) =>
        _streamOffsets.TryGetValue(stream, out var seen) && offset <= seen;

    /// <summary>The entity as a table row (its upserted fields), or null while it has none or is deleted.</summary>
    public EntityRow? TableRow =>
        LastUpsert is { } u && (Tombstone is not { } t || u > t)
            ? new EntityRow(EventKind.Upsert, _fields.ToDictionary(f => f.Key, f => f.Value.Value, StringComparer.Ordinal),
                new DateTimeOffset(u.TimeTicks, TimeSpan.Zero), u)
            : null;

    /// <summary>Applies <paramref name="e"/>; returns whether the table row (fields or existence) changed.</summary>
    public bool Apply(IngestEvent e)
    {
        var v = e.Version;
        if (!_streamOffsets.TryGetValue(e.Stream, out var seen) || e.Offset > seen)
            _streamOffsets[e.Stream] = e.Offset;

        switch (e.Kind)
        {
            case EventKind.Upsert:
            {
                if (Tombstone is { } t && v < t) return false;
                var changed = false;
                if (LastUpsert is not { } lu || v > lu)
                {
                    // The row's time and version move with every winning upsert (windows and LAST see them).
                    changed = true;
                    LastUpsert = v;
                }
                foreach (var p in e.Data.EnumerateObject())
                {
                    if (_fields.TryGetValue(p.Name, out var cell) && v <= cell.Version) continue;
                    changed |= cell is null || cell.Value.GetRawText() != p.Value.GetRawText();
                    _fields[p.Name] = new FieldCell(p.Value.Clone(), v);
                }
                return changed;
            }
            case EventKind.Delete:
            {
                if (Tombstone is { } old && v <= old) return false;
                var wasRow = TableRowExists;
                Tombstone = v;
                foreach (var name in _fields.Where(f => f.Value.Version < v).Select(f => f.Key).ToList())
                    _fields.Remove(name);
                return wasRow;
            }
            case EventKind.Event:
                EventCount++;
                if (LastEvent is null || v > LastEvent.Version) LastEvent = e;
                return false;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "unknown event kind");
        }
    }

    private bool TableRowExists => LastUpsert is { } u && (Tombstone is not { } t || u > t);

    public EntityState Clone() => FromSnapshot(ToSnapshot());

    public EntitySnapshot ToSnapshot() => new(
        _fields.Select(f => new FieldSnapshot(f.Key, f.Value.Value, f.Value.Version)).ToList(),
        Tombstone, LastUpsert, EventCount, LastEvent,
        new Dictionary<string, long>(_streamOffsets));

    public static EntityState FromSnapshot(EntitySnapshot s)
    {
        var state = new EntityState { Tombstone = s.Tombstone, LastUpsert = s.LastUpsert, EventCount = s.EventCount, LastEvent = s.LastEvent };
        foreach (var f in s.Fields) state._fields[f.Name] = new FieldCell(f.Value, f.Version);
        foreach (var (stream, offset) in s.StreamOffsets) state._streamOffsets[stream] = offset;
        return state;
    }
}

public sealed record FieldSnapshot(string Name, JsonElement Value, EventVersion Version);

public sealed record EntitySnapshot(
    IReadOnlyList<FieldSnapshot> Fields,
    EventVersion? Tombstone,
    EventVersion? LastUpsert,
    long EventCount,
    IngestEvent? LastEvent,
    Dictionary<string, long> StreamOffsets) : IPlatformMessage;
