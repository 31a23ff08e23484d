// A JSON argument reduced to a totally ordered, canonical key, so equal values meet in one multiset entry whatever their spelling.
using System.Globalization;
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Events;

namespace ContextLake.Views.Algebra;

/// <summary>
/// Values of different JSON kinds still need one order for MIN/MAX: numbers, then strings, then booleans,
/// then everything else (objects, arrays, numbers beyond decimal range) by canonical text, then null. Null is zero,
/// so that a ValueKey nobody set is null.
/// </summary>
public enum ValueRank : byte
{
    Null = 0,
    Number = 1,
    String = 2,
    Boolean = 3,
    Other = 4,
}

/// <summary>
/// An aggregate's argument as its view keeps it: the JSON value reduced when the row is projected (no reference to the
/// event's document stays behind). <see cref="Text"/> is canonical for the rank (normalised decimal, the string itself,
/// compact JSON), so equality agrees with the comparer; <see cref="Number"/> only matters for <see cref="ValueRank.Number"/>,
/// whose text is written only when asked for.
/// </summary>
public readonly struct ValueKey : IComparable<ValueKey>, IEquatable<ValueKey>
{
    private readonly string? _text;

    public ValueKey(ValueRank rank, decimal number, string? text)
    {
        Rank = rank;
        Number = number;
        _text = text;
    }

    public static readonly ValueKey Null = default;

    public ValueRank Rank { get; }

    public decimal Number { get; }

    public string Text => _text ?? Rank switch
    {
        ValueRank.Number => Decimals.Text(Number),
        ValueRank.Null => "null",
        _ => "",
    };

    public bool IsNull => Rank == ValueRank.Null;

    public int CompareTo(ValueKey other)
    {
        var c = Order(Rank).CompareTo(Order(other.Rank));
        if (c != 0) return c;
        return Rank == ValueRank.Number ? Number.CompareTo(other.Number) : string.CompareOrdinal(Text, other.Text);
    }

    public bool Equals(ValueKey other) =>
        Rank == other.Rank && (Rank == ValueRank.Number ? Number == other.Number : string.Equals(Text, other.Text, StringComparison.Ordinal));

    public override bool Equals(object? obj) => obj is ValueKey other && Equals(other);

    public override int GetHashCode() => Rank == ValueRank.Number ? HashCode.Combine(Rank, Number) : HashCode.Combine(Rank, Text);

    public override string ToString() => Text;

    /// <summary>Null sorts after every other rank.</summary>
    private static int Order(ValueRank rank) => rank == ValueRank.Null ? int.MaxValue : (int)rank;

    /// <summary>An absent argument or JSON null is <see cref="Null"/>.</summary>
    public static ValueKey From(JsonElement? value) => value is { } v ? From(v) : Null;

    public static ValueKey From(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetDecimal(out var d):
                return new ValueKey(ValueRank.Number, Decimals.Normalise(d), null);
            case JsonValueKind.String:
                return new ValueKey(ValueRank.String, 0m, value.GetString()!);
            case JsonValueKind.True:
                return new ValueKey(ValueRank.Boolean, 0m, "true");
            case JsonValueKind.False:
                return new ValueKey(ValueRank.Boolean, 0m, "false");
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return Null;
            default:
                return new ValueKey(ValueRank.Other, 0m, CanonicalJson.Write(value));
        }
    }

    /// <summary>The value read where a writer put it with <see cref="WriteTo"/> (or any JSON value).</summary>
    public static ValueKey Read(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetDecimal(out var d) => new ValueKey(ValueRank.Number, Decimals.Normalise(d), null),
        JsonTokenType.String => new ValueKey(ValueRank.String, 0m, reader.GetString()!),
        JsonTokenType.True => new ValueKey(ValueRank.Boolean, 0m, "true"),
        JsonTokenType.False => new ValueKey(ValueRank.Boolean, 0m, "false"),
        JsonTokenType.Null => Null,
        _ => From(JsonElement.ParseValue(ref reader)),
    };

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (Rank)
        {
            case ValueRank.Number:
                writer.WriteNumberValue(Number);
                break;
            case ValueRank.String:
                writer.WriteStringValue(Text);
                break;
            case ValueRank.Null:
                writer.WriteNullValue();
                break;
            default:
                writer.WriteRawValue(Text, skipInputValidation: true);
                break;
        }
    }

    /// <summary>About how many bytes it takes on the wire.</summary>
    public int EstimatedBytes => Rank == ValueRank.Number ? 16 : Text.Length + 2;

    public JsonElement ToJson() => Rank switch
    {
        ValueRank.Number => Json.Number(Number),
        ValueRank.String => Json.String(Text),
        ValueRank.Null => Json.Null,
        _ => Json.Parse(Text),
    };
}

/// <summary>LAST orders rows by version; MIN/MAX/COUNT DISTINCT leave the version out so rows of equal value share an entry.</summary>
internal readonly record struct EntryKey(EventVersion? Version, ValueKey Value) : IComparable<EntryKey>
{
    public int CompareTo(EntryKey other)
    {
        var c = (Version, other.Version) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            ({ } a, { } b) => a.CompareTo(b),
        };
        return c != 0 ? c : Value.CompareTo(other.Value);
    }
}

internal static class Decimals
{
    /// <summary>Dividing by 1 at maximal scale drops trailing zeros, so 1.50 and 1.5 print and hash alike.</summary>
    public static decimal Normalise(decimal d) => d == 0m ? 0m : d / 1.0000000000000000000000000000m;

    public static string Text(decimal d) => Normalise(d).ToString(CultureInfo.InvariantCulture);
}

internal static class Json
{
    public static readonly JsonElement Null = Parse("null");

    public static JsonElement Number(decimal d) => Parse(Decimals.Text(d));

    public static JsonElement String(string text)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            writer.WriteStringValue(text);
        using var doc = JsonDocument.Parse(stream.ToArray());
        return doc.RootElement.Clone();
    }

    public static JsonElement Parse(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static bool IsNull(JsonElement? value) =>
        value is null || value.Value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;
}

/// <summary>Compact JSON with numbers normalised as decimals; property order is kept because it is the caller's data.</summary>
internal static class CanonicalJson
{
    public static string Write(JsonElement value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            WriteValue(writer, value);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var p in value.EnumerateObject())
                {
                    writer.WritePropertyName(p.Name);
                    WriteValue(writer, p.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                    WriteValue(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number when value.TryGetDecimal(out var d):
                writer.WriteRawValue(Decimals.Text(d), skipInputValidation: true);
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}
