// How an entity partition's committed entities are written in its snapshot: in binary, each entity's data exactly as
// it is in memory (EntityValue.Data), its name and stream sets written once per snapshot and referred to by number.
// A snapshot of a partition of a hundred thousand entities is then mostly one copy of their arrays, and a restore one
// array per entity, with no JSON to write or parse per key.
using System.Buffers;
using System.Text;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

/// <remarks>
/// Layout: a format byte (1); the name sets (count, then each: count, names); the stream sets (likewise); the entities
/// (count, then each: key, name set, stream set, data). Numbers are unsigned LEB128 varints; strings and byte runs are a
/// length and their UTF-8 bytes.
/// </remarks>
public static class EntityKeys
{
    private const byte Format = 1;

    /// <summary>Every entity of <paramref name="store"/> with a committed value, encoded as of the newest committed epoch (owner only).</summary>
    public static byte[] Write(VersionedStore<EntityValue, IngestEvent> store)
    {
        var keys = new KeyWriter(store.Count);
        store.CaptureEach(keys, static (w, key, value, _) =>
        {
            if (value is not null) w.Add(key, value);
        });

        var output = new ArrayBufferWriter<byte>(keys.Bytes.WrittenCount + 1024);
        output.GetSpan(1)[0] = Format;
        output.Advance(1);
        WriteSets(output, keys.NameSets);
        WriteSets(output, keys.StreamSets);
        WriteLong(output, keys.Count);
        output.Write(keys.Bytes.WrittenSpan);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The entities part of a snapshot being written, and the sets its entities refer to.</summary>
    private sealed class KeyWriter(int keys)
    {
        public Dictionary<string[], int> NameSets { get; } = new(ReferenceEqualityComparer.Instance);
        public Dictionary<string[], int> StreamSets { get; } = new(ReferenceEqualityComparer.Instance);
        public ArrayBufferWriter<byte> Bytes { get; } = new(Math.Max(256, keys * 96));
        public int Count { get; private set; }

        public void Add(string key, EntityValue value)
        {
            WriteString(Bytes, key);
            WriteLong(Bytes, IndexOf(NameSets, value.Names));
            WriteLong(Bytes, IndexOf(StreamSets, value.Streams));
            WriteBytes(Bytes, value.Data);
            Count++;
        }
    }

    /// <summary>Restores every entity of <paramref name="encoded"/> into <paramref name="store"/> (after <see cref="VersionedStore{TValue,TChange}.Clear"/>).</summary>
    public static void Read(byte[] encoded, VersionedStore<EntityValue, IngestEvent> store)
    {
        var r = new Reader(encoded);
        if (r.Byte() != Format) throw new FormatException($"an entity partition's keys are in format {encoded[0]}, this build reads format {Format}");
        var names = r.Sets(FieldNames.Intern);
        var streams = r.Sets(StreamSets.Intern);
        var keys = r.Long();
        for (var k = 0; k < keys; k++)
        {
            var key = r.String();
            var nameSet = names[r.Int()];
            var streamSet = streams[r.Int()];
            store.Restore(key, EntityValue.FromParts(nameSet, streamSet, r.Bytes().ToArray()), []);
        }
        if (!r.AtEnd) throw new FormatException($"an entity partition's keys end at byte {r.Position} of {encoded.Length}");
    }

    private static int IndexOf(Dictionary<string[], int> sets, string[] set)
    {
        if (!sets.TryGetValue(set, out var index)) sets[set] = index = sets.Count;
        return index;
    }

    private static void WriteSets(IBufferWriter<byte> w, Dictionary<string[], int> sets)
    {
        WriteLong(w, sets.Count);
        foreach (var (set, _) in sets.OrderBy(s => s.Value))
        {
            WriteLong(w, set.Length);
            foreach (var s in set) WriteString(w, s);
        }
    }

    private static void WriteLong(IBufferWriter<byte> w, long value)
    {
        var span = w.GetSpan(10);
        var v = (ulong)value;
        var i = 0;
        while (v >= 0x80)
        {
            span[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[i++] = (byte)v;
        w.Advance(i);
    }

    private static void WriteString(IBufferWriter<byte> w, string s)
    {
        var length = Encoding.UTF8.GetByteCount(s);
        WriteLong(w, length);
        Encoding.UTF8.GetBytes(s, w.GetSpan(length));
        w.Advance(length);
    }

    private static void WriteBytes(IBufferWriter<byte> w, ReadOnlySpan<byte> bytes)
    {
        WriteLong(w, bytes.Length);
        w.Write(bytes);
    }

    private sealed class Reader(byte[] data)
    {
        public int Position { get; private set; }

        public bool AtEnd => Position >= data.Length;

        public byte Byte() => data[Position++];

        public long Long()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = data[Position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return (long)result;
            }
            throw new FormatException($"a number at byte {Position} of an entity partition's keys is too long");
        }

        public int Int() => checked((int)Long());

        public ReadOnlySpan<byte> Bytes()
        {
            var length = Int();
            if (length < 0 || Position + length > data.Length)
                throw new FormatException($"{length} bytes at byte {Position} run past the end of an entity partition's keys ({data.Length})");
            var bytes = data.AsSpan(Position, length);
            Position += length;
            return bytes;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public string[][] Sets(Func<string[], string[]> intern)
        {
            var sets = new string[Int()][];
            for (var i = 0; i < sets.Length; i++)
            {
                var set = new string[Int()];
                for (var j = 0; j < set.Length; j++) set[j] = String();
                sets[i] = intern(set);
            }
            return sets;
        }
    }
}
