// How an event is written in journal rows (entity partitions' run rows, the HTTP write log) and messages: by hand,
// since every event is written at least twice, in the shape users query with their own SQL:
// {"stream", "offset", "eventTime" (ISO 8601), "entityType", "entityId", "kind" ("Event" | "Upsert" | "Delete"), "data"}.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContextLake.Platform.Events;

public sealed class IngestEventJsonConverter : JsonConverter<IngestEvent>
{
    public override void Write(Utf8JsonWriter writer, IngestEvent value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("stream"u8, value.Stream);
        writer.WriteNumber("offset"u8, value.Offset);
        writer.WriteString("eventTime"u8, value.EventTime);
        writer.WriteString("entityType"u8, value.EntityType);
        writer.WriteString("entityId"u8, value.EntityId);
        writer.WriteString("kind"u8, value.Kind switch
        {
            EventKind.Event => "Event"u8,
            EventKind.Upsert => "Upsert"u8,
            EventKind.Delete => "Delete"u8,
            _ => throw new JsonException($"event {value.Stream}@{value.Offset} has no kind {value.Kind}"),
        });
        writer.WritePropertyName("data"u8);
        // The data's own bytes, as parsed (valid JSON by construction): JsonElement.WriteTo would walk and re-escape every token.
        writer.WriteRawValue(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value.Data), skipInputValidation: true);
        writer.WriteEndObject();
    }

    public override IngestEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"an event is an object, found {reader.TokenType}");
        string? stream = null, entityType = null, entityId = null;
        long? offset = null;
        DateTimeOffset? eventTime = null;
        EventKind? kind = null;
        JsonElement? data = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("stream"u8)) stream = reader.GetString();
            else if (name.SequenceEqual("offset"u8)) offset = reader.GetInt64();
            else if (name.SequenceEqual("eventTime"u8)) eventTime = reader.GetDateTimeOffset();
            else if (name.SequenceEqual("entityType"u8)) entityType = reader.GetString();
            else if (name.SequenceEqual("entityId"u8)) entityId = reader.GetString();
            else if (name.SequenceEqual("kind"u8)) kind = KindOf(ref reader);
            else if (name.SequenceEqual("data"u8)) data = JsonElement.ParseValue(ref reader);
            else reader.Skip();
        }
        if (stream is null || offset is null || eventTime is null || entityType is null || entityId is null || kind is null || data is null)
            throw new JsonException("an event needs \"stream\", \"offset\", \"eventTime\", \"entityType\", \"entityId\", \"kind\" and \"data\"");
        return new IngestEvent(stream, offset.Value, eventTime.Value, entityType, entityId, kind.Value, data.Value);
    }

    private static EventKind KindOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("Event"u8)) return EventKind.Event;
        if (reader.ValueTextEquals("Upsert"u8)) return EventKind.Upsert;
        if (reader.ValueTextEquals("Delete"u8)) return EventKind.Delete;
        throw new JsonException($"an event's kind is \"Event\", \"Upsert\" or \"Delete\", not {(reader.TokenType == JsonTokenType.String ? $"\"{reader.GetString()}\"" : reader.TokenType.ToString())}");
    }
}
