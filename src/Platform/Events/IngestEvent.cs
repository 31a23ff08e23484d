// The one event shape every input (HTTP writes, Kafka, CDC) is turned into before it reaches an entity.
using System.Text.Json;
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.Events;

public enum EventKind
{
    Event,
    Upsert,
    Delete,
}

/// <summary>
/// An input record placed at <see cref="Offset"/> of <see cref="Stream"/>: the unit of exactly-once.
/// <see cref="Data"/> is always a JSON object (empty for a delete). Written by <see cref="IngestEventJsonConverter"/>.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(IngestEventJsonConverter))]
public sealed record IngestEvent(
    string Stream,
    long Offset,
    DateTimeOffset EventTime,
    string EntityType,
    string EntityId,
    EventKind Kind,
    JsonElement Data) : IPlatformMessage, State.IStreamChange
{
    private string? _address;

    public EventVersion Version => new(EventTime.UtcTicks, Stream, Offset);

    public EntityKey Entity => new(EntityType, EntityId);

    /// <summary>"type/id", built once: the entity's key in its partition, and what its partition is the hash of.</summary>
    public string Address => _address ??= $"{EntityType}/{EntityId}";
}

/// <summary>
/// Orders writes for last-writer-wins: event time first, then stream and offset to break ties,
/// so any arrival order of the same events yields the same state. Written as [ticks, stream, offset].
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(EventVersionJsonConverter))]
public readonly record struct EventVersion(long TimeTicks, string Stream, long Offset) : IComparable<EventVersion>
{
    public int CompareTo(EventVersion other)
    {
        var c = TimeTicks.CompareTo(other.TimeTicks);
        if (c != 0) return c;
        c = string.CompareOrdinal(Stream, other.Stream);
        return c != 0 ? c : Offset.CompareTo(other.Offset);
    }

    public static bool operator <(EventVersion a, EventVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(EventVersion a, EventVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(EventVersion a, EventVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(EventVersion a, EventVersion b) => a.CompareTo(b) >= 0;
}

/// <summary>An event version in rows and messages: a three-element array, [ticks, stream, offset].</summary>
public sealed class EventVersionJsonConverter : System.Text.Json.Serialization.JsonConverter<EventVersion>
{
    public override EventVersion Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadArray(ref reader);

    /// <summary>The version at the reader's start of array, leaving the reader on its end: for readers that walk rows by hand.</summary>
    public static EventVersion ReadArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("an event version is an array [ticks, stream, offset]");
        reader.Read();
        var ticks = reader.GetInt64();
        reader.Read();
        var stream = reader.GetString() ?? throw new JsonException("an event version's stream is a string");
        reader.Read();
        var offset = reader.GetInt64();
        reader.Read();
        if (reader.TokenType != JsonTokenType.EndArray) throw new JsonException("an event version has three elements");
        return new EventVersion(ticks, stream, offset);
    }

    public override void Write(Utf8JsonWriter writer, EventVersion value, JsonSerializerOptions options) => WriteArray(writer, value);

    /// <summary>Writes <paramref name="value"/> as [ticks, stream, offset] where the writer stands (a value, or after a property name).</summary>
    public static void WriteArray(Utf8JsonWriter writer, EventVersion value)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.TimeTicks);
        writer.WriteStringValue(value.Stream);
        writer.WriteNumberValue(value.Offset);
        writer.WriteEndArray();
    }
}

/// <summary>An entity's address: its type (<c>account</c>) and id (<c>a1</c>).</summary>
public readonly record struct EntityKey(string Type, string Id)
{
    /// <summary>Entity types are names (<see cref="Names"/>) so that <c>type/id</c> splits unambiguously at the first slash.</summary>
    public static bool IsValidType(string type) => Names.IsValid(type);

    public const int MaxIdLength = 256;

    public override string ToString() => $"{Type}/{Id}";

    public static EntityKey Parse(string entityId)
    {
        var slash = entityId.IndexOf('/');
        if (slash <= 0 || slash == entityId.Length - 1)
            throw new FormatException($"'{entityId}' is not an entity address of the form type/id");
        return new EntityKey(entityId[..slash], entityId[(slash + 1)..]);
    }
}

/// <summary>The rule for names that become parts of addresses and stream ids: entity types, connectors.</summary>
public static class Names
{
    public const string Rule = "1 to 64 letters, digits, '_', '-' or '.'";

    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
}
