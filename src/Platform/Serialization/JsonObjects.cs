// Named JSON values (a view key's columns, an entity's fields) written as one compact JSON object in UTF-8: the
// one writer behind every place that answers such values as a single document (a Redis GET, a cached view value).
using System.Buffers;
using System.Text.Json;

namespace ContextLake.Platform.Serialization;

public static class JsonObjects
{
    public static void Write(IBufferWriter<byte> output, IReadOnlyDictionary<string, JsonElement> fields)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        foreach (var (field, value) in fields)
        {
            json.WritePropertyName(field);
            value.WriteTo(json);
        }
        json.WriteEndObject();
    }
}
