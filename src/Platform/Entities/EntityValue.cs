// The state of one entity, compact and immutable: per-field last-writer-wins ordered by (eventTime,
// stream, offset), delete tombstones, the event history summary, and the highest offset applied per
// stream. An entity is one object and one byte array: its field names and its streams are arrays shared
// between entities (interned), and everything else (counts, versions, offsets, the fields' raw UTF-8 JSON,
// the last event's data) is encoded in the array, versions naming their stream by its index in the shared
// streams. So a partition of a million entities holds a few million objects, and a snapshot writes each
// entity's array as it is. Every rule is a max over EventVersion: any order of the same events gives the
// same value. Applying an event returns a new value and never changes the old one, so a committed version
// can be read from any thread while the owner goes on applying.
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
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

/// <remarks>
/// <see cref="Data"/>: a flags byte (tombstone, last upsert, last event, per-field versions), the event count, the
/// applied offset of each of <see cref="Streams"/>, the tombstone's and the last upsert's versions, each field's value
/// length, the fields' versions (only where they are not all the last upsert's), the last event (version, data), and
/// the fields' values one after another. Numbers are unsigned LEB128 varints, except event times (8 bytes); a version
/// is (time, index in <see cref="Streams"/>, offset).
/// </remarks>
public sealed class EntityValue
{
    private const byte TombstoneFlag = 1, UpsertFlag = 2, LastEventFlag = 4, FieldVersionsFlag = 8;
    private static readonly JsonElement EmptyObject = JsonSerializer.Deserialize("{}"u8, PlatformElementContext.Default.JsonElement);

    private EntityValue(string[] names, string[] streams, byte[] data)
    {
        Names = names;
        Streams = streams;
        Data = data;
    }

    /// <summary>Upserted field names in ordinal order (arrays shared between entities with the same fields).</summary>
    public string[] Names { get; }

    /// <summary>Every stream applied to the entity, in ordinal order (arrays shared between entities).</summary>
    public string[] Streams { get; }

    /// <summary>Everything else, encoded (see the remarks): what a snapshot writes.</summary>
    public byte[] Data { get; }

    /// <summary>A value as a snapshot held it; refused (<see cref="FormatException"/>) when its parts do not fit together.</summary>
    public static EntityValue FromParts(string[] names, string[] streams, byte[] data)
    {
        var value = new EntityValue(FieldNames.Intern(names), StreamSets.Intern(streams), data);
        var layout = value.Decode();
        if (layout.ValuesAt + layout.ValuesLength != data.Length)
            throw new FormatException($"an entity's data holds {data.Length} bytes where its {names.Length} fields and {streams.Length} streams need {layout.ValuesAt + layout.ValuesLength}");
        return value;
    }

    /// <summary>A value given field by field (the first snapshot format held values so).</summary>
    internal static EntityValue FromFields(IReadOnlyList<(string Name, byte[] Value, EventVersion Version)> fields, EventVersion? tombstone,
        EventVersion? upsert, long eventCount, StoredEvent? lastEvent, IReadOnlyList<StreamMark> applied)
    {
        var draft = Draft.Of(null);
        foreach (var mark in applied) draft.Mark(mark.Stream, mark.Offset);
        draft.EventCount = eventCount;
        draft.Tombstone = tombstone;
        draft.Upsert = upsert;
        foreach (var (name, value, version) in fields) draft.AddField(FieldNames.Intern(name), value, version);
        if (lastEvent is not null) draft.SetLastEvent(lastEvent.Version, lastEvent.Data);
        return draft.Build(null);
    }

    public long EventCount => Decode().EventCount;

    public EventVersion? Tombstone => Decode().Tombstone;

    public EventVersion? LastUpsert => Decode().Upsert;

    /// <summary>Each field's version; null when every field was last written by <see cref="LastUpsert"/>.</summary>
    public EventVersion[]? Versions
    {
        get
        {
            var layout = Decode();
            if ((layout.Flags & FieldVersionsFlag) == 0) return null;
            var reader = new Reader(Data, layout.VersionsAt);
            var versions = new EventVersion[Names.Length];
            for (var i = 0; i < versions.Length; i++) versions[i] = reader.Version(Streams);
            return versions;
        }
    }

    public StoredEvent? LastEvent
    {
        get
        {
            var layout = Decode();
            if ((layout.Flags & LastEventFlag) == 0) return null;
            var reader = new Reader(Data, layout.LastEventAt);
            var v = reader.Version(Streams);
            return new StoredEvent(v.Stream, v.Offset, v.TimeTicks, reader.Bytes().ToArray());
        }
    }

    /// <summary>Highest offset applied per stream, in ordinal order of the stream.</summary>
    public StreamMark[] Applied
    {
        get
        {
            var reader = new Reader(Data, Decode().OffsetsAt);
            var marks = new StreamMark[Streams.Length];
            for (var i = 0; i < marks.Length; i++) marks[i] = new StreamMark(Streams[i], reader.Long());
            return marks;
        }
    }

    public bool Exists
    {
        get
        {
            var layout = Decode();
            return layout.HasTableRow || (layout.LastEventVersion is { } e && (layout.Tombstone is not { } t || e > t));
        }
    }

    public int FieldCount => Names.Length;

    public EventVersion VersionOf(int field)
    {
        var layout = Decode();
        if ((layout.Flags & FieldVersionsFlag) == 0) return layout.Upsert!.Value;
        var reader = new Reader(Data, layout.VersionsAt);
        for (var i = 0; i < field; i++) reader.Version(Streams);
        return reader.Version(Streams);
    }

    public ReadOnlySpan<byte> RawValue(int field)
    {
        var layout = Decode();
        var reader = new Reader(Data, layout.LengthsAt);
        var start = layout.ValuesAt;
        for (var i = 0; i < field; i++) start += reader.Int();
        return Data.AsSpan(start, reader.Int());
    }

    /// <summary>The upserted fields as JSON values (parsed on each call: for reads and row changes, not the hot path).</summary>
    public IReadOnlyDictionary<string, JsonElement> Fields()
    {
        var fields = new Dictionary<string, JsonElement>(Names.Length, StringComparer.Ordinal);
        if (Names.Length == 0) return fields;
        var layout = Decode();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(layout.ValuesLength + Names.Length * 8 + 2);
        buffer.Write("{"u8);
        var lengths = new Reader(Data, layout.LengthsAt);
        var at = layout.ValuesAt;
        for (var i = 0; i < Names.Length; i++)
        {
            if (i > 0) buffer.Write(","u8);
            buffer.Write("\""u8);
            buffer.Write(JsonEncodedText.Encode(Names[i]).EncodedUtf8Bytes);
            buffer.Write("\":"u8);
            var length = lengths.Int();
            buffer.Write(Data.AsSpan(at, length));
            at += length;
        }
        buffer.Write("}"u8);
        var obj = JsonSerializer.Deserialize(buffer.WrittenSpan, PlatformElementContext.Default.JsonElement);
        foreach (var p in obj.EnumerateObject()) fields[p.Name] = p.Value;
        return fields;
    }

    /// <summary>The entity as a table row (its upserted fields), or null while it has none or is deleted.</summary>
    public EntityRow? TableRow()
    {
        var layout = Decode();
        return layout.HasTableRow
            ? new EntityRow(EventKind.Upsert, Fields(), new DateTimeOffset(layout.Upsert!.Value.TimeTicks, TimeSpan.Zero), layout.Upsert.Value)
            : null;
    }

    public long AppliedOffset(string stream)
    {
        var at = Array.IndexOf(Streams, stream);
        if (at < 0) return 0;
        var reader = new Reader(Data, Decode().OffsetsAt);
        for (var i = 0; i < at; i++) reader.Long();
        return reader.Long();
    }

    /// <summary>The data of the last event of kind event, as JSON.</summary>
    public JsonElement LastEventData()
    {
        var layout = Decode();
        if ((layout.Flags & LastEventFlag) == 0) return EmptyObject;
        var reader = new Reader(Data, layout.LastEventAt);
        reader.Version(Streams);
        return JsonSerializer.Deserialize(reader.Bytes(), PlatformElementContext.Default.JsonElement);
    }

    /// <summary>Applies <paramref name="events"/> in order (the fold an epoch's commit runs when it cannot take the current value).</summary>
    public static EntityValue? ApplyAll(string key, EntityValue? value, ReadOnlySpan<IngestEvent> events)
    {
        foreach (var e in events) value = Apply(value, e, out _);
        return value;
    }

    /// <summary>
    /// Applies <paramref name="e"/> to <paramref name="value"/> (null: the entity was never written) and returns the
    /// new value; <paramref name="rowChanged"/> says whether the table row (fields or existence) changed.
    /// </summary>
    public static EntityValue Apply(EntityValue? value, IngestEvent e, out bool rowChanged)
    {
        rowChanged = false;
        var draft = Draft.Of(value);
        var v = new EventVersion(e.EventTime.UtcTicks, e.Stream, e.Offset);
        draft.Mark(e.Stream, e.Offset);
        switch (e.Kind)
        {
            case EventKind.Upsert:
            {
                if (draft.Tombstone is { } t && v < t) break;
                var changed = false;
                if (draft.Upsert is not { } lu || v > lu)
                {
                    // The row's time and version move with every winning upsert (windows and LAST see them).
                    changed = true;
                    draft.Upsert = v;
                }
                if (e.Data.ValueKind == JsonValueKind.Object)
                    foreach (var p in e.Data.EnumerateObject())
                        changed |= draft.Upserted(p, v);
                rowChanged = changed;
                break;
            }
            case EventKind.Delete:
            {
                if (draft.Tombstone is { } old && v <= old) break;
                rowChanged = draft.HasTableRow;
                draft.Tombstone = v;
                draft.RemoveFieldsBefore(v);
                break;
            }
            case EventKind.Event:
                draft.EventCount++;
                if (draft.LastEvent is not { } last || v > last) draft.SetLastEvent(v, JsonMarshal.GetRawUtf8Value(e.Data));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "unknown event kind");
        }
        return draft.Build(value);
    }

    private Layout Decode()
    {
        var reader = new Reader(Data, 0);
        var layout = new Layout { Flags = reader.Byte(), EventCount = reader.Long(), OffsetsAt = reader.Position };
        for (var i = 0; i < Streams.Length; i++) reader.Long();
        if ((layout.Flags & TombstoneFlag) != 0) layout.Tombstone = reader.Version(Streams);
        if ((layout.Flags & UpsertFlag) != 0) layout.Upsert = reader.Version(Streams);
        layout.LengthsAt = reader.Position;
        for (var i = 0; i < Names.Length; i++) layout.ValuesLength += reader.Int();
        layout.VersionsAt = reader.Position;
        if ((layout.Flags & FieldVersionsFlag) != 0)
            for (var i = 0; i < Names.Length; i++) reader.Version(Streams);
        layout.LastEventAt = reader.Position;
        if ((layout.Flags & LastEventFlag) != 0)
        {
            layout.LastEventVersion = reader.Version(Streams);
            reader.Bytes();
        }
        layout.ValuesAt = reader.Position;
        return layout;
    }

    /// <summary>Where the parts of <see cref="Data"/> are, and the small ones decoded.</summary>
    private struct Layout
    {
        public byte Flags;
        public long EventCount;
        public int OffsetsAt, LengthsAt, VersionsAt, LastEventAt, ValuesAt, ValuesLength;
        public EventVersion? Tombstone, Upsert, LastEventVersion;

        public readonly bool HasTableRow => Upsert is { } u && (Tombstone is not { } t || u > t);
    }

    /// <summary>Reads <see cref="Data"/> from a position on.</summary>
    private ref struct Reader(byte[] data, int position)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; } = position;

        public byte Byte() => _data[Position++];

        public long Long()
        {
            ulong result = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = _data[Position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return (long)result;
            }
        }

        public int Int() => checked((int)Long());

        public EventVersion Version(string[] streams)
        {
            var ticks = BinaryPrimitives.ReadInt64LittleEndian(_data[Position..]);
            Position += 8;
            var stream = streams[Int()];
            return new EventVersion(ticks, stream, Long());
        }

        public ReadOnlySpan<byte> Bytes()
        {
            var length = Int();
            var bytes = _data.Slice(Position, length);
            Position += length;
            return bytes;
        }
    }

    /// <summary>
    /// A value taken apart for one Apply and put together again: one per thread, reused, so applying an event allocates
    /// only the new value's object and array (and its name or stream set when the entity gains a field or a stream).
    /// </summary>
    private sealed class Draft
    {
        [ThreadStatic] private static Draft? _current;

        private readonly List<(string Name, int Start, int Length, EventVersion Version)> _fields = new();
        private readonly List<(string Stream, long Offset)> _marks = new();
        private byte[] _bytes = new byte[256];
        private int _used;
        private int _lastEventStart, _lastEventLength;
        private byte[] _out = new byte[256];

        public long EventCount;
        public EventVersion? Tombstone, Upsert, LastEvent;

        public bool HasTableRow => Upsert is { } u && (Tombstone is not { } t || u > t);

        public static Draft Of(EntityValue? value)
        {
            var draft = _current ??= new Draft();
            draft.Load(value);
            return draft;
        }

        private void Load(EntityValue? value)
        {
            _fields.Clear();
            _marks.Clear();
            _used = 0;
            EventCount = 0;
            Tombstone = Upsert = LastEvent = null;
            if (value is null) return;
            var layout = value.Decode();
            EventCount = layout.EventCount;
            Tombstone = layout.Tombstone;
            Upsert = layout.Upsert;
            var reader = new Reader(value.Data, layout.OffsetsAt);
            foreach (var stream in value.Streams) _marks.Add((stream, reader.Long()));
            var lengths = new Reader(value.Data, layout.LengthsAt);
            var versions = new Reader(value.Data, layout.VersionsAt);
            var at = layout.ValuesAt;
            for (var i = 0; i < value.Names.Length; i++)
            {
                var length = lengths.Int();
                var version = (layout.Flags & FieldVersionsFlag) != 0 ? versions.Version(value.Streams) : layout.Upsert!.Value;
                _fields.Add((value.Names[i], Keep(value.Data.AsSpan(at, length)), length, version));
                at += length;
            }
            if ((layout.Flags & LastEventFlag) != 0)
            {
                var last = new Reader(value.Data, layout.LastEventAt);
                LastEvent = last.Version(value.Streams);
                var data = last.Bytes();
                _lastEventLength = data.Length;
                _lastEventStart = Keep(data);
            }
        }

        /// <summary>Copies bytes into the draft's buffer and returns where they start.</summary>
        private int Keep(ReadOnlySpan<byte> bytes)
        {
            if (_used + bytes.Length > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + bytes.Length));
            bytes.CopyTo(_bytes.AsSpan(_used));
            var start = _used;
            _used += bytes.Length;
            return start;
        }

        public void Mark(string stream, long offset)
        {
            for (var i = 0; i < _marks.Count; i++)
            {
                if (!string.Equals(_marks[i].Stream, stream, StringComparison.Ordinal)) continue;
                if (_marks[i].Offset < offset) _marks[i] = (_marks[i].Stream, offset);
                return;
            }
            var at = 0;
            while (at < _marks.Count && string.CompareOrdinal(_marks[at].Stream, stream) < 0) at++;
            _marks.Insert(at, (stream, offset));
        }

        /// <summary>A property of an upsert at version <paramref name="v"/>; whether it changed the field.</summary>
        public bool Upserted(JsonProperty p, EventVersion v)
        {
            var at = -1;
            for (var i = 0; i < _fields.Count && at < 0; i++)
                if (p.NameEquals(_fields[i].Name)) at = i;
            if (at >= 0 && v <= _fields[at].Version) return false;
            var raw = JsonMarshal.GetRawUtf8Value(p.Value);
            var changed = at < 0 || !raw.SequenceEqual(_bytes.AsSpan(_fields[at].Start, _fields[at].Length));
            var field = (at >= 0 ? _fields[at].Name : FieldNames.Intern(p), Keep(raw), raw.Length, v);
            if (at >= 0) _fields[at] = field;
            else _fields.Add(field);
            return changed;
        }

        public void AddField(string name, ReadOnlySpan<byte> value, EventVersion version) => _fields.Add((name, Keep(value), value.Length, version));

        public void RemoveFieldsBefore(EventVersion v) => _fields.RemoveAll(f => f.Version < v);

        public void SetLastEvent(EventVersion v, ReadOnlySpan<byte> data)
        {
            LastEvent = v;
            _lastEventLength = data.Length;
            _lastEventStart = Keep(data);
        }

        /// <summary>The new value, sharing <paramref name="previous"/>'s name and stream sets where they did not change.</summary>
        public EntityValue Build(EntityValue? previous)
        {
            _fields.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var names = SameNames(previous?.Names) ?? FieldNames.Intern(_fields);
            var streams = SameStreams(previous?.Streams) ?? StreamSets.Intern(_marks);
            var uniform = Upsert is { } upsert;
            foreach (var f in _fields) uniform &= f.Version == Upsert;

            var w = new Writer(_out);
            var flags = (byte)((Tombstone is null ? 0 : TombstoneFlag) | (Upsert is null ? 0 : UpsertFlag) |
                               (LastEvent is null ? 0 : LastEventFlag) | (uniform || _fields.Count == 0 ? 0 : FieldVersionsFlag));
            w.Byte(flags);
            w.Long(EventCount);
            foreach (var (_, offset) in _marks) w.Long(offset);
            if (Tombstone is { } tombstone) w.Version(tombstone, streams);
            if (Upsert is { } u) w.Version(u, streams);
            foreach (var f in _fields) w.Long(f.Length);
            if ((flags & FieldVersionsFlag) != 0)
                foreach (var f in _fields) w.Version(f.Version, streams);
            if (LastEvent is { } last)
            {
                w.Version(last, streams);
                w.Bytes(_bytes.AsSpan(_lastEventStart, _lastEventLength));
            }
            foreach (var f in _fields) w.Raw(_bytes.AsSpan(f.Start, f.Length));
            _out = w.Buffer;
            return new EntityValue(names, streams, w.Written.ToArray());
        }

        private string[]? SameNames(string[]? names)
        {
            if (names is null || names.Length != _fields.Count) return null;
            for (var i = 0; i < names.Length; i++)
                if (!ReferenceEquals(names[i], _fields[i].Name)) return null;
            return names;
        }

        private string[]? SameStreams(string[]? streams)
        {
            if (streams is null || streams.Length != _marks.Count) return null;
            for (var i = 0; i < streams.Length; i++)
                if (!ReferenceEquals(streams[i], _marks[i].Stream)) return null;
            return streams;
        }
    }

    /// <summary>Writes a value's data into a growable buffer.</summary>
    private ref struct Writer(byte[] buffer)
    {
        private int _length;

        public byte[] Buffer { get; private set; } = buffer;

        public readonly ReadOnlySpan<byte> Written => Buffer.AsSpan(0, _length);

        private Span<byte> Take(int bytes)
        {
            if (_length + bytes > Buffer.Length)
            {
                var grown = Buffer;
                Array.Resize(ref grown, Math.Max(Buffer.Length * 2, _length + bytes));
                Buffer = grown;
            }
            var span = Buffer.AsSpan(_length, bytes);
            _length += bytes;
            return span;
        }

        public void Byte(byte b) => Take(1)[0] = b;

        public void Long(long value)
        {
            var v = (ulong)value;
            while (v >= 0x80)
            {
                Byte((byte)(v | 0x80));
                v >>= 7;
            }
            Byte((byte)v);
        }

        public void Version(EventVersion v, string[] streams)
        {
            BinaryPrimitives.WriteInt64LittleEndian(Take(8), v.TimeTicks);
            Long(StreamSets.IndexOf(streams, v.Stream));
            Long(v.Offset);
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            Long(bytes.Length);
            Raw(bytes);
        }

        public void Raw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));
    }
}

/// <summary>Field names (and whole name sets) shared between entities, so a million entities of one shape keep one copy.</summary>
internal static class FieldNames
{
    private const int MaxShared = 100_000;
    private static readonly ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string[]> Sets = new(StringComparer.Ordinal);
    [ThreadStatic] private static string[]? _lastSet;

    public static string Intern(string name) =>
        Names.TryGetValue(name, out var shared) ? shared : Names.Count < MaxShared ? Names.GetOrAdd(name, name) : name;

    /// <summary>A property's name, shared: looked up from its UTF-8 bytes, so a name seen before allocates nothing.</summary>
    public static string Intern(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Length <= 128 && raw.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[128];
            if (System.Text.Encoding.UTF8.TryGetChars(raw, chars, out var count) &&
                Names.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..count], out var shared))
                return shared;
        }
        return Intern(property.Name);
    }

    public static string[] Intern(string[] names)
    {
        if (names.Length == 0) return [];
        var key = string.Join('\u0001', names);
        if (Sets.TryGetValue(key, out var shared)) return shared;
        for (var i = 0; i < names.Length; i++) names[i] = Intern(names[i]);
        return Sets.Count < MaxShared ? Sets.GetOrAdd(key, names) : names;
    }

    /// <summary>The set of the fields' names (in their order), shared; the set this thread found last is tried first.</summary>
    public static string[] Intern(List<(string Name, int Start, int Length, EventVersion Version)> fields)
    {
        if (fields.Count == 0) return [];
        if (_lastSet is { } last && last.Length == fields.Count)
        {
            var same = true;
            for (var i = 0; same && i < last.Length; i++) same = ReferenceEquals(last[i], fields[i].Name);
            if (same) return last;
        }
        var names = new string[fields.Count];
        for (var i = 0; i < names.Length; i++) names[i] = fields[i].Name;
        return _lastSet = Intern(names);
    }
}

/// <summary>The sets of streams entities were written by, shared: most entities have one stream, and a few streams in all.</summary>
internal static class StreamSets
{
    private const int MaxShared = 100_000;
    private static readonly ConcurrentDictionary<string, string[]> Singles = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string[]> Sets = new(StringComparer.Ordinal);

    public static string[] Intern(List<(string Stream, long Offset)> marks)
    {
        if (marks.Count == 0) return [];
        if (marks.Count == 1)
        {
            var stream = marks[0].Stream;
            if (Singles.TryGetValue(stream, out var single)) return single;
            return Singles.Count < MaxShared ? Singles.GetOrAdd(FieldNames.Intern(stream), s => [s]) : [stream];
        }
        var streams = new string[marks.Count];
        for (var i = 0; i < streams.Length; i++) streams[i] = marks[i].Stream;
        return Intern(streams);
    }

    public static string[] Intern(string[] streams)
    {
        if (streams.Length == 0) return [];
        for (var i = 1; i < streams.Length; i++)
            if (string.CompareOrdinal(streams[i - 1], streams[i]) >= 0)
                throw new FormatException($"an entity's streams are distinct and in ordinal order: '{streams[i - 1]}' comes before '{streams[i]}'");
        if (streams.Length == 1) return Intern([(streams[0], 0L)]);
        var key = string.Join('\u0001', streams);
        if (Sets.TryGetValue(key, out var shared)) return shared;
        for (var i = 0; i < streams.Length; i++) streams[i] = FieldNames.Intern(streams[i]);
        return Sets.Count < MaxShared ? Sets.GetOrAdd(key, streams) : streams;
    }

    public static int IndexOf(string[] streams, string stream)
    {
        for (var i = 0; i < streams.Length; i++)
            if (ReferenceEquals(streams[i], stream) || string.Equals(streams[i], stream, StringComparison.Ordinal)) return i;
        throw new InvalidOperationException($"stream '{stream}' is not among the entity's streams");
    }
}

[JsonSerializable(typeof(JsonElement))]
internal sealed partial class PlatformElementContext : JsonSerializerContext;
