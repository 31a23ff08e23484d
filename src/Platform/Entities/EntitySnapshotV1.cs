// The first format of entity partition snapshots (manifest "eS"), read so that a node started on a journal a build
// before wrote still restores from its snapshots; nothing writes it any more (EntityKeys replaced it). Each key's
// value was JSON: {"n": names, "v": values (base64 of the raw UTF-8 JSON), "e": ends, "fv": field versions,
// "t": tombstone, "u": last upsert, "c": event count, "l": {"s", "o", "t", "d"} last event, "a": [{"s", "o"}] applied
// marks}; absent members are null or empty.
using System.Text.Json;
using System.Text.Json.Serialization;
using static ContextLake.Platform.Serialization.JsonTokens;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Entities;

/// <summary>An entity partition's state between two writes, as the first snapshot format held it (read only).</summary>
public sealed record EntityPartitionSnapshotV1(
    long CommittedThrough,
    IReadOnlyList<EntitySnapshotV1Key> Keys,
    Dictionary<string, long> Streams,
    IReadOnlyList<SentMark> Sent,
    IReadOnlyList<ProjectionState> Projections,
    long CatalogVersion,
    IReadOnlyList<OutboxPart> Outbox) : Serialization.IPlatformMessage;

/// <summary>The last position sent on a channel to a downstream partition: where its next batch's chain starts.</summary>
public sealed record SentMark(string Channel, string Region, string Partition, long Through);

/// <summary>A derived batch for <see cref="Region"/>/<see cref="Partition"/>, serialized with the serializer Akka binds to its type.</summary>
public sealed record SerializedBatch(string Region, string Partition, int SerializerId, string Manifest, byte[] Bytes);

/// <summary>
/// The derived batches of a run part not yet committed, kept so they can be sent again (after a redelivery, or a
/// restart): the part's stream and the offsets it spoke for, (From, Through], the highest event offset among them,
/// and the view keys they change.
/// </summary>
public sealed record OutboxPart(string Stream, long From, long Through, long MaxOffset, IReadOnlyList<SerializedBatch> Batches, IReadOnlyList<string> Keys);

/// <summary>One key of a first-format snapshot: its committed value and its pending events.</summary>
public sealed record EntitySnapshotV1Key(
    string Key,
    [property: JsonConverter(typeof(EntityValueV1JsonConverter))] EntityValue? Value,
    IReadOnlyList<IngestEvent>? Pending);

public sealed class EntityValueV1JsonConverter : JsonConverter<EntityValue>
{
    public override void Write(Utf8JsonWriter writer, EntityValue value, JsonSerializerOptions options) =>
        throw new NotSupportedException("entity values are no longer written in the first snapshot format (EntityKeys writes them)");

    public override EntityValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Expect(ref reader, JsonTokenType.StartObject, "an entity value");
        string[] names = [];
        byte[] values = [];
        int[] ends = [];
        EventVersion[]? versions = null;
        EventVersion? tombstone = null, upsert = null;
        long count = 0;
        StoredEvent? last = null;
        StreamMark[] applied = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("n"u8)) names = ReadStrings(ref reader);
            else if (name.SequenceEqual("v"u8)) values = reader.GetBytesFromBase64();
            else if (name.SequenceEqual("e"u8)) ends = ReadInts(ref reader);
            else if (name.SequenceEqual("fv"u8)) versions = ReadVersions(ref reader);
            else if (name.SequenceEqual("t"u8)) tombstone = ReadVersion(ref reader);
            else if (name.SequenceEqual("u"u8)) upsert = ReadVersion(ref reader);
            else if (name.SequenceEqual("c"u8)) count = reader.GetInt64();
            else if (name.SequenceEqual("l"u8)) last = ReadLastEvent(ref reader);
            else if (name.SequenceEqual("a"u8)) applied = ReadMarks(ref reader);
            else reader.Skip();
        }
        if (ends.Length != names.Length || (versions is not null && versions.Length != names.Length))
            throw new JsonException($"an entity value has {names.Length} field names, {ends.Length} ends and {versions?.Length ?? names.Length} versions");
        var fields = new List<(string, byte[], EventVersion)>(names.Length);
        for (var i = 0; i < names.Length; i++)
        {
            var start = i == 0 ? 0 : ends[i - 1];
            if (ends[i] < start || ends[i] > values.Length) throw new JsonException($"an entity value's field {names[i]} ends at {ends[i]}, outside its {values.Length} value bytes");
            fields.Add((names[i], values[start..ends[i]], versions?[i] ?? upsert ?? throw new JsonException($"an entity value's field {names[i]} has no version")));
        }
        return EntityValue.FromFields(fields, tombstone, upsert, count, last, applied);
    }

    private static EventVersion ReadVersion(ref Utf8JsonReader reader)
    {
        var version = EventVersionJsonConverter.ReadArray(ref reader);
        return version with { Stream = FieldNames.Intern(version.Stream) };
    }

    private static EventVersion[] ReadVersions(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "field versions");
        var list = new List<EventVersion>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) list.Add(ReadVersion(ref reader));
        return list.ToArray();
    }

    private static string[] ReadStrings(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "field names");
        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            list.Add(reader.GetString() ?? throw new JsonException("a field name is a string"));
        return list.ToArray();
    }

    private static int[] ReadInts(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "field ends");
        var list = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) list.Add(reader.GetInt32());
        return list.ToArray();
    }

    private static StoredEvent ReadLastEvent(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject, "a last event");
        string? stream = null;
        long offset = 0, ticks = 0;
        byte[] data = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("s"u8)) stream = FieldNames.Intern(reader.GetString()!);
            else if (name.SequenceEqual("o"u8)) offset = reader.GetInt64();
            else if (name.SequenceEqual("t"u8)) ticks = reader.GetInt64();
            else if (name.SequenceEqual("d"u8)) data = reader.GetBytesFromBase64();
            else reader.Skip();
        }
        return new StoredEvent(stream ?? throw new JsonException("a last event needs \"s\""), offset, ticks, data);
    }

    private static StreamMark[] ReadMarks(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "applied marks");
        var marks = new List<StreamMark>(1);
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string? stream = null;
            long offset = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("s"u8)) stream = FieldNames.Intern(reader.GetString()!);
                else if (name.SequenceEqual("o"u8)) offset = reader.GetInt64();
                else reader.Skip();
            }
            marks.Add(new StreamMark(stream ?? throw new JsonException("an applied mark needs \"s\""), offset));
        }
        return marks.ToArray();
    }
}
