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
/// <see cref="Data"/> is always a JSON object (empty for a delete).
/// </summary>
public sealed record IngestEvent(
    string Stream,
    long Offset,
    DateTimeOffset EventTime,
    string EntityType,
    string EntityId,
    EventKind Kind,
    JsonElement Data) : IPlatformMessage
{
    public EventVersion Version => new(EventTime.UtcTicks, Stream, Offset);

    public EntityKey Entity => new(EntityType, EntityId);
}

/// <summary>
/// Orders writes for last-writer-wins: event time first, then stream and offset to break ties,
/// so any arrival order of the same events yields the same state.
/// </summary>
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
