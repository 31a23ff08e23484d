// A JSON argument reduced to a totally ordered, canonical key, so equal values meet in one multiset entry whatever their spelling.
using System.Globalization;
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Events;

namespace ContextLake.Views.Algebra;

/// <summary>
/// Values of different JSON kinds still need one order for MIN/MAX: numbers, then strings, then booleans,
/// then everything else (objects, arrays, numbers beyond decimal range) by canonical text, then null.
/// </summary>
internal enum ValueRank : byte
{
    Number = 0,
    String = 1,
    Boolean = 2,
    Other = 3,
    Null = 4,
}

/// <summary>
/// <see cref="Text"/> is canonical for the rank (normalised decimal, the string itself, compact JSON), so equality by
/// text agrees with the comparer; <see cref="Number"/> only matters for <see cref="ValueRank.Number"/>.
/// </summary>
internal readonly record struct ValueKey(ValueRank Rank, decimal Number, string Text) : IComparable<ValueKey>
{
    public static readonly ValueKey Null = new(ValueRank.Null, 0m, "null");

    public int CompareTo(ValueKey other)
    {
        var c = Rank.CompareTo(other.Rank);
        if (c != 0) return c;
        return Rank == ValueRank.Number ? Number.CompareTo(other.Number) : string.CompareOrdinal(Text, other.Text);
    }

    public static ValueKey From(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetDecimal(out var d):
                var n = Decimals.Normalise(d);
                return new ValueKey(ValueRank.Number, n, Decimals.Text(n));
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
