// Column values arrive as PostgreSQL text (pgoutput's text mode, and ::text in the snapshot query), so one
// conversion by type OID turns both into the same JSON: the snapshot and the stream never disagree.
using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace ContextLake.Connectors.Cdc;

internal static class PgTextJson
{
    /// <summary>
    /// Session settings for both the replication and the snapshot connection: the text forms parsed below
    /// (ISO dates, UTC offsets, round-trippable floats) then do not depend on server defaults.
    /// </summary>
    public const string SessionOptions = "-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3";

    // Type OIDs from pg_type.dat; they are fixed for built-in types.
    private const uint Bool = 16, Int8 = 20, Int2 = 21, Int4 = 23, Oid = 26, Xid = 28, Cid = 29;
    private const uint Float4 = 700, Float8 = 701, Numeric = 1700, Timestamp = 1114, TimestampTz = 1184;

    private static readonly string[] TimestampFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF"];
    private static readonly string[] TimestampTzFormats =
        ["yyyy-MM-dd HH:mm:sszz", "yyyy-MM-dd HH:mm:ss.FFFFFFzz", "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFzzz"];

    public static void Write(Utf8JsonWriter writer, string name, uint typeOid, string text)
    {
        switch (typeOid)
        {
            case Int2 or Int4 or Int8 or Oid or Xid or Cid when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n):
                writer.WriteNumber(name, n);
                return;
            case Numeric or Float4 or Float8 when IsJsonNumber(text):
                // Raw, so numeric keeps its exact digits and scale ("12.50" stays "12.50").
                writer.WritePropertyName(name);
                writer.WriteRawValue(text);
                return;
            case Bool when text is "t" or "f" or "true" or "false":
                // boolout prints t/f (the stream); the bool-to-text cast prints true/false (the snapshot).
                writer.WriteBoolean(name, text[0] == 't');
                return;
            case Timestamp when DateTime.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var ts):
                writer.WriteString(name, ts.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture));
                return;
            case TimestampTz when DateTimeOffset.TryParseExact(text, TimestampTzFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var tz):
                writer.WriteString(name, tz.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture));
                return;
            default:
                // Text types, and everything without a closer JSON shape (NaN, infinity, BC dates, arrays, json, …).
                writer.WriteString(name, text);
                return;
        }
    }

    /// <summary>The finished JSON object of one row, as a dictionary whose elements own their memory.</summary>
    public static IReadOnlyDictionary<string, JsonElement> ToRow(ArrayBufferWriter<byte> json)
    {
        using var doc = JsonDocument.Parse(json.WrittenMemory);
        var root = doc.RootElement.Clone();
        var row = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
            row[property.Name] = property.Value;
        return row;
    }

    private static bool IsJsonNumber(string text)
    {
        // Finite values print in a form JSON accepts; NaN and Infinity do not, so check rather than trust.
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text));
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.Number && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
