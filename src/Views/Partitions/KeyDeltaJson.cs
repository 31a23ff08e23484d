// How a key delta is written in view partitions' rows, snapshots and messages: one per event and group key, so
// it is written by hand, compactly. {"v": view, "i": incarnation, "k": key, "s": stream, "o": offset,
// "d": [{"w": weight, "t": event time in UTC ticks, "r": row version, "a": arguments}]}, where "r" is left
// out when the row is the event's own ([t, s, o], every row an event adds); a retracted row names its version.
// Arguments are written as their views keep them (ValueKey): numbers normalised, strings, booleans, canonical JSON.
using System.Text.Json;
using System.Text.Json.Serialization;
using static ContextLake.Platform.Serialization.JsonTokens;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;

namespace ContextLake.Views.Partitions;

public sealed class KeyDeltaJsonConverter : JsonConverter<KeyDelta>
{
    public override void Write(Utf8JsonWriter writer, KeyDelta value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("v"u8, value.View);
        writer.WriteNumber("i"u8, value.Incarnation);
        writer.WriteString("k"u8, value.Key);
        writer.WriteString("s"u8, value.Stream);
        writer.WriteNumber("o"u8, value.Offset);
        writer.WriteStartArray("d"u8);
        for (var i = 0; i < value.Deltas.Count; i++)
        {
            var d = value.Deltas[i];
            writer.WriteStartObject();
            writer.WriteNumber("w"u8, d.Weight);
            writer.WriteNumber("t"u8, d.EventTime.UtcTicks);
            var own = new EventVersion(d.EventTime.UtcTicks, value.Stream, value.Offset);
            if (d.RowVersion != own)
            {
                writer.WritePropertyName("r"u8);
                EventVersionJsonConverter.WriteArray(writer, d.RowVersion);
            }
            writer.WriteStartArray("a"u8);
            for (var j = 0; j < d.Arguments.Count; j++) d.Arguments[j].WriteTo(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override KeyDelta Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Expect(ref reader, JsonTokenType.StartObject, "a key delta");
        string? view = null, key = null, stream = null;
        long incarnation = 0, offset = 0;
        List<RawDelta>? deltas = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("v"u8)) view = reader.GetString();
            else if (name.SequenceEqual("i"u8)) incarnation = reader.GetInt64();
            else if (name.SequenceEqual("k"u8)) key = reader.GetString();
            else if (name.SequenceEqual("s"u8)) stream = reader.GetString();
            else if (name.SequenceEqual("o"u8)) offset = reader.GetInt64();
            else if (name.SequenceEqual("d"u8)) deltas = ReadDeltas(ref reader);
            else reader.Skip();
        }
        if (view is null || key is null || stream is null || deltas is null)
            throw new JsonException("a key delta needs \"v\", \"k\", \"s\" and \"d\"");
        var result = new ViewDelta[deltas.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var d = deltas[i];
            result[i] = new ViewDelta(d.Weight, new DateTimeOffset(d.Ticks, TimeSpan.Zero), d.Version ?? new EventVersion(d.Ticks, stream, offset), d.Arguments);
        }
        return new KeyDelta(view, incarnation, key, stream, offset, result);
    }

    private readonly record struct RawDelta(int Weight, long Ticks, EventVersion? Version, ValueKey[] Arguments);

    private static List<RawDelta> ReadDeltas(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "a key delta's \"d\"");
        var deltas = new List<RawDelta>(2);
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            int weight = 0;
            long ticks = 0;
            EventVersion? version = null;
            ValueKey[]? arguments = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("w"u8)) weight = reader.GetInt32();
                else if (name.SequenceEqual("t"u8)) ticks = reader.GetInt64();
                else if (name.SequenceEqual("r"u8)) version = EventVersionJsonConverter.ReadArray(ref reader);
                else if (name.SequenceEqual("a"u8)) arguments = ReadArguments(ref reader);
                else reader.Skip();
            }
            deltas.Add(new RawDelta(weight, ticks, version, arguments ?? throw new JsonException("a view delta needs \"a\"")));
        }
        return deltas;
    }

    private static ValueKey[] ReadArguments(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "a view delta's \"a\"");
        var arguments = new List<ValueKey>(4);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) arguments.Add(ValueKey.Read(ref reader));
        return arguments.ToArray();
    }
}
