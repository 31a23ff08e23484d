// How an entity's value is written in partition snapshots (every key of a partition, so a restart reads a
// million of them): by hand, compactly, restoring shared names and streams as it reads.
// {"n": names, "v": values (base64 of the raw UTF-8 JSON), "e": ends, "fv": field versions, "t": tombstone,
// "u": last upsert, "c": event count, "l": {"s", "o", "t", "d"} last event, "a": [{"s", "o"}] applied marks};
// absent members are null or empty.
using System.Text.Json;
using System.Text.Json.Serialization;
using static ContextLake.Platform.Serialization.JsonTokens;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Entities;

public sealed class EntityValueJsonConverter : JsonConverter<EntityValue>
{
    public override void Write(Utf8JsonWriter writer, EntityValue value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("n"u8);
        foreach (var name in value.Names) writer.WriteStringValue(name);
        writer.WriteEndArray();
        writer.WriteBase64String("v"u8, value.Values);
        writer.WriteStartArray("e"u8);
        foreach (var end in value.Ends) writer.WriteNumberValue(end);
        writer.WriteEndArray();
        if (value.Versions is { } versions)
        {
            writer.WriteStartArray("fv"u8);
            foreach (var v in versions) WriteVersion(writer, v);
            writer.WriteEndArray();
        }
        if (value.Tombstone is { } tombstone)
        {
            writer.WritePropertyName("t"u8);
            WriteVersion(writer, tombstone);
        }
        if (value.LastUpsert is { } upsert)
        {
            writer.WritePropertyName("u"u8);
            WriteVersion(writer, upsert);
        }
        writer.WriteNumber("c"u8, value.EventCount);
        if (value.LastEvent is { } last)
        {
            writer.WriteStartObject("l"u8);
            writer.WriteString("s"u8, last.Stream);
            writer.WriteNumber("o"u8, last.Offset);
            writer.WriteNumber("t"u8, last.TimeTicks);
            writer.WriteBase64String("d"u8, last.Data);
            writer.WriteEndObject();
        }
        writer.WriteStartArray("a"u8);
        foreach (var mark in value.Applied)
        {
            writer.WriteStartObject();
            writer.WriteString("s"u8, mark.Stream);
            writer.WriteNumber("o"u8, mark.Offset);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

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
            if (name.SequenceEqual("n"u8)) names = FieldNames.Intern(ReadStrings(ref reader));
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
        return EntityValue.Restored(names, values, ends, versions, tombstone, upsert, count, last, applied);
    }

    private static void WriteVersion(Utf8JsonWriter writer, EventVersion v)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(v.TimeTicks);
        writer.WriteStringValue(v.Stream);
        writer.WriteNumberValue(v.Offset);
        writer.WriteEndArray();
    }

    private static EventVersion ReadVersion(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "a version [ticks, stream, offset]");
        reader.Read();
        var ticks = reader.GetInt64();
        reader.Read();
        var stream = FieldNames.Intern(reader.GetString() ?? throw new JsonException("a version's stream is a string"));
        reader.Read();
        var offset = reader.GetInt64();
        reader.Read();
        Expect(ref reader, JsonTokenType.EndArray, "the end of a version");
        return new EventVersion(ticks, stream, offset);
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
