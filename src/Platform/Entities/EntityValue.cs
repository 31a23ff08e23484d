// The state of one entity, compact and immutable: per-field last-writer-wins ordered by (eventTime,
// stream, offset), delete tombstones, the event history summary, and the highest offset applied per
// stream. Field values are kept as their raw UTF-8 JSON in one blob, names are shared between entities,
// and per-field versions are kept only where they differ from the last upsert's, so an entity of five
// fields costs a few hundred bytes. Every rule is a max over EventVersion: any order of the same events
// gives the same value. Applying an event returns a new value and never changes the old one, so a
// committed version can be read from any thread while the owner goes on applying.
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Entities;

/// <summary>The last event of kind event an entity saw: what a read shows as its history's last entry.</summary>
public sealed record StoredEvent(string Stream, long Offset, long TimeTicks, byte[] Data)
{
    public EventVersion Version => new(TimeTicks, Stream, Offset);
}

/// <summary>The highest offset of <see cref="Stream"/> applied to an entity.</summary>
public readonly record struct StreamMark(string Stream, long Offset);

[JsonConverter(typeof(EntityValueJsonConverter))]
public sealed class EntityValue
{
    private static readonly JsonElement EmptyObject = JsonSerializer.Deserialize("{}"u8, PlatformElementContext.Default.JsonElement);

    /// <summary>As a snapshot restores it (EntityValueJsonConverter): names and streams already shared again.</summary>
    internal static EntityValue Restored(string[] names, byte[] values, int[] ends, EventVersion[]? versions, EventVersion? tombstone,
        EventVersion? lastUpsert, long eventCount, StoredEvent? lastEvent, StreamMark[] applied) =>
        new(names, values, ends, versions, tombstone, lastUpsert, eventCount, lastEvent, applied);

    private EntityValue(string[] names, byte[] values, int[] ends, EventVersion[]? versions, EventVersion? tombstone, EventVersion? lastUpsert,
        long eventCount, StoredEvent? lastEvent, StreamMark[] applied)
    {
        Names = names;
        Values = values;
        Ends = ends;
        Versions = versions;
        Tombstone = tombstone;
        LastUpsert = lastUpsert;
        EventCount = eventCount;
        LastEvent = lastEvent;
        Applied = applied;
    }

    /// <summary>Upserted field names in ordinal order (arrays shared between entities with the same fields).</summary>
    public string[] Names { get; }

    /// <summary>The fields' values, raw UTF-8 JSON one after another; field i ends at Ends[i].</summary>
    public byte[] Values { get; }

    public int[] Ends { get; }

    /// <summary>Each field's version; null when every field was last written by <see cref="LastUpsert"/>.</summary>
    public EventVersion[]? Versions { get; }

    public EventVersion? Tombstone { get; }

    public EventVersion? LastUpsert { get; }

    public long EventCount { get; }

    public StoredEvent? LastEvent { get; }

    /// <summary>Highest offset applied per stream, in ordinal order of the stream.</summary>
    public StreamMark[] Applied { get; }

    public bool Exists =>
        (LastUpsert is { } u && (Tombstone is not { } t1 || u > t1)) ||
        (LastEvent is { } e && (Tombstone is not { } t2 || e.Version > t2));

    public int FieldCount => Names.Length;

    private bool HasTableRow => LastUpsert is { } u && (Tombstone is not { } t || u > t);

    public EventVersion VersionOf(int field) => Versions?[field] ?? LastUpsert!.Value;

    public ReadOnlySpan<byte> RawValue(int field) => Values.AsSpan(field == 0 ? 0 : Ends[field - 1], Ends[field] - (field == 0 ? 0 : Ends[field - 1]));

    /// <summary>The upserted fields as JSON values (parsed on each call: for reads and row changes, not the hot path).</summary>
    public IReadOnlyDictionary<string, JsonElement> Fields()
    {
        var fields = new Dictionary<string, JsonElement>(Names.Length, StringComparer.Ordinal);
        if (Names.Length == 0) return fields;
        var buffer = new ArrayBufferWriterLite(Values.Length + Names.Length * 8 + 2);
        buffer.Write("{"u8);
        for (var i = 0; i < Names.Length; i++)
        {
            if (i > 0) buffer.Write(","u8);
            buffer.Write(JsonEncodedText.Encode(Names[i]).EncodedUtf8Bytes, quoted: true);
            buffer.Write(":"u8);
            buffer.Write(RawValue(i));
        }
        buffer.Write("}"u8);
        var obj = JsonSerializer.Deserialize(buffer.Written, PlatformElementContext.Default.JsonElement);
        foreach (var p in obj.EnumerateObject()) fields[p.Name] = p.Value;
        return fields;
    }

    /// <summary>The entity as a table row (its upserted fields), or null while it has none or is deleted.</summary>
    public EntityRow? TableRow() =>
        HasTableRow ? new EntityRow(EventKind.Upsert, Fields(), new DateTimeOffset(LastUpsert!.Value.TimeTicks, TimeSpan.Zero), LastUpsert.Value) : null;

    public long AppliedOffset(string stream)
    {
        foreach (var m in Applied)
            if (string.Equals(m.Stream, stream, StringComparison.Ordinal)) return m.Offset;
        return 0;
    }

    /// <summary>The data of the last event of kind event, as JSON.</summary>
    public JsonElement LastEventData() =>
        LastEvent is { } e ? JsonSerializer.Deserialize(e.Data, PlatformElementContext.Default.JsonElement) : EmptyObject;

    /// <summary>
    /// Applies <paramref name="e"/> to <paramref name="value"/> (null: the entity was never written) and returns the
    /// new value; <paramref name="rowChanged"/> says whether the table row (fields or existence) changed.
    /// </summary>
    public static EntityValue Apply(EntityValue? value, IngestEvent e, out bool rowChanged)
    {
        rowChanged = false;
        var v = FieldNames.Intern(e.Version);
        var applied = Mark(value?.Applied ?? [], e.Stream, e.Offset);
        var names = value?.Names ?? [];
        var values = value?.Values ?? [];
        var ends = value?.Ends ?? [];
        var versions = value?.Versions;
        var tombstone = value?.Tombstone;
        var lastUpsert = value?.LastUpsert;
        var eventCount = value?.EventCount ?? 0;
        var lastEvent = value?.LastEvent;

        switch (e.Kind)
        {
            case EventKind.Upsert:
            {
                if (tombstone is { } t && v < t) break;
                var fields = Unpack(value);
                var changed = false;
                if (lastUpsert is not { } lu || v > lu)
                {
                    // The row's time and version move with every winning upsert (windows and LAST see them).
                    changed = true;
                    lastUpsert = v;
                }
                if (e.Data.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in e.Data.EnumerateObject())
                    {
                        var raw = JsonMarshal.GetRawUtf8Value(p.Value);
                        var at = -1;
                        for (var i = 0; i < fields.Count && at < 0; i++)
                            if (p.NameEquals(fields[i].Name)) at = i;
                        if (at >= 0 && v <= fields[at].Version) continue;
                        changed |= at < 0 || !raw.SequenceEqual(fields[at].Value);
                        var field = (FieldNames.Intern(p.Name), raw.ToArray(), v);
                        if (at >= 0) fields[at] = field;
                        else fields.Add(field);
                    }
                }
                rowChanged = changed;
                (names, values, ends, versions) = Pack(fields, lastUpsert, names);
                break;
            }
            case EventKind.Delete:
            {
                if (tombstone is { } old && v <= old) break;
                rowChanged = value?.HasTableRow ?? false;
                tombstone = v;
                var kept = Unpack(value);
                kept.RemoveAll(f => f.Version < v);
                (names, values, ends, versions) = Pack(kept, lastUpsert, names);
                break;
            }
            case EventKind.Event:
                eventCount++;
                if (lastEvent is null || v > lastEvent.Version)
                    lastEvent = new StoredEvent(v.Stream, e.Offset, e.EventTime.UtcTicks, JsonMarshal.GetRawUtf8Value(e.Data).ToArray());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "unknown event kind");
        }
        return new EntityValue(names, values, ends, versions, tombstone, lastUpsert, eventCount, lastEvent, applied);
    }

    private static List<(string Name, byte[] Value, EventVersion Version)> Unpack(EntityValue? value)
    {
        var fields = new List<(string, byte[], EventVersion)>(value?.Names.Length + 4 ?? 4);
        if (value is null) return fields;
        for (var i = 0; i < value.Names.Length; i++) fields.Add((value.Names[i], value.RawValue(i).ToArray(), value.VersionOf(i)));
        return fields;
    }

    private static (string[], byte[], int[], EventVersion[]?) Pack(
        List<(string Name, byte[] Value, EventVersion Version)> fields, EventVersion? lastUpsert, string[] previousNames)
    {
        fields.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var same = fields.Count == previousNames.Length;
        for (var i = 0; same && i < fields.Count; i++) same = ReferenceEquals(fields[i].Name, previousNames[i]);
        var names = same ? previousNames : new string[fields.Count];
        var ends = new int[fields.Count];
        var total = 0;
        var uniform = lastUpsert is not null;
        for (var i = 0; i < fields.Count; i++)
        {
            if (!same) names[i] = fields[i].Name;
            total += fields[i].Value.Length;
            ends[i] = total;
            uniform &= fields[i].Version == lastUpsert;
        }
        var values = new byte[total];
        for (var i = 0; i < fields.Count; i++) fields[i].Value.CopyTo(values, i == 0 ? 0 : ends[i - 1]);
        var versions = uniform ? null : fields.Select(f => f.Version).ToArray();
        return (same ? names : FieldNames.Intern(names), values, ends, versions);
    }

    private static StreamMark[] Mark(StreamMark[] applied, string stream, long offset)
    {
        for (var i = 0; i < applied.Length; i++)
        {
            var c = string.CompareOrdinal(applied[i].Stream, stream);
            if (c != 0) continue;
            if (applied[i].Offset >= offset) return applied;
            var copy = (StreamMark[])applied.Clone();
            copy[i] = new StreamMark(stream, offset);
            return copy;
        }
        var grown = new StreamMark[applied.Length + 1];
        var at = 0;
        while (at < applied.Length && string.CompareOrdinal(applied[at].Stream, stream) < 0) at++;
        Array.Copy(applied, grown, at);
        grown[at] = new StreamMark(FieldNames.Intern(stream), offset);
        Array.Copy(applied, at, grown, at + 1, applied.Length - at);
        return grown;
    }

    /// <summary>A small growable byte buffer for building the fields object.</summary>
    private sealed class ArrayBufferWriterLite(int capacity)
    {
        private byte[] _buffer = new byte[Math.Max(16, capacity)];
        private int _length;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public void Write(ReadOnlySpan<byte> bytes, bool quoted = false)
        {
            var needed = _length + bytes.Length + (quoted ? 2 : 0);
            if (needed > _buffer.Length) Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
            if (quoted) _buffer[_length++] = (byte)'"';
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
            if (quoted) _buffer[_length++] = (byte)'"';
        }
    }
}

/// <summary>Field names (and whole name sets) shared between entities, so a million entities of one shape keep one copy.</summary>
internal static class FieldNames
{
    private const int MaxShared = 100_000;
    private static readonly ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string[]> Sets = new(StringComparer.Ordinal);

    public static EventVersion Intern(EventVersion v) => v with { Stream = Intern(v.Stream) };

    public static string Intern(string name) =>
        Names.TryGetValue(name, out var shared) ? shared : Names.Count < MaxShared ? Names.GetOrAdd(name, name) : name;

    public static string[] Intern(string[] names)
    {
        if (names.Length == 0) return [];
        var key = string.Join('\u0001', names);
        if (Sets.TryGetValue(key, out var shared)) return shared;
        for (var i = 0; i < names.Length; i++) names[i] = Intern(names[i]);
        return Sets.Count < MaxShared ? Sets.GetOrAdd(key, names) : names;
    }
}

[JsonSerializable(typeof(JsonElement))]
internal sealed partial class PlatformElementContext : JsonSerializerContext;
