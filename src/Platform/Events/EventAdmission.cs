// The contract every event meets before it is journaled, from every source: its data's size (Limits:MaxEventBytes),
// the numeric model (EventNumbers) and, for an entity type with a schema (configured in ContextLake:Schemas, or declared
// at run time over /v1/schemas: the view catalog's replica hands every change to Declare), each declared field's kind.
// A refusal names the field, what was declared and what came; HTTP answers it as a 400 at events[i].data…, a connector
// dead-letters the record with the same words and moves on. A declared field that is absent or null is accepted (an
// upsert leaves it as it was, an aggregate skips it). Undeclared fields are accepted unless the type is strict
// (ContextLake:SchemaModes), types without a schema unless ContextLake:UndeclaredTypes is refuse.
using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using ContextLake.Platform.Hosting;

namespace ContextLake.Platform.Events;

/// <summary>Why an event's data is refused: <see cref="Path"/> is the place in data ("" for data as a whole, "amount", "limits.daily").</summary>
public sealed record EventRefusal(string Path, string Reason)
{
    /// <summary>The refusal under <paramref name="data"/>, the name data has where the event came from ("events[2].data", "data").</summary>
    public string At(string data) => Path.Length == 0 ? $"{data} {Reason}" : $"{data}.{Path}: {Reason}";
}

public sealed class EventAdmission
{
    private const string Setting = "ContextLake:Schemas";

    /// <summary>The kinds a declared field can have, as schemas name them.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["number", "string", "boolean", "time", "vector"];

    /// <summary>The modes of a declared type: open takes fields the schema does not declare, strict refuses them.</summary>
    public static IReadOnlyList<string> Modes { get; } = ["open", "strict"];

    private enum Kind
    {
        Number,
        String,
        Boolean,
        Time,
        Vector,
    }

    /// <summary>One declared type, compiled: its fields with their kinds (and the kinds' names, for refusals), and its mode.</summary>
    private sealed record Declared(KeyValuePair<string, Kind>[] Fields, string[] KindNames, FrozenSet<string> Names, bool Strict);

    private readonly int _maxEventBytes;
    private readonly bool _refuseUndeclaredTypes;

    // Replaced whole by Declare: Check reads it once per event, so an event meets one snapshot, without a lock.
    private volatile FrozenDictionary<string, Declared> _declared = FrozenDictionary<string, Declared>.Empty;

    public EventAdmission(
        IReadOnlyDictionary<string, Dictionary<string, string>> schemas, int maxEventBytes,
        IReadOnlyDictionary<string, string>? modes = null, bool refuseUndeclaredTypes = false)
    {
        _maxEventBytes = maxEventBytes;
        _refuseUndeclaredTypes = refuseUndeclaredTypes;
        Declare(schemas.Select(s => (s.Key, (IReadOnlyDictionary<string, string>)s.Value,
            modes is not null && modes.TryGetValue(s.Key, out var mode) && mode == "strict")));
    }

    public EventAdmission(NodeOptions options)
        : this(options.Schemas, options.Limits.MaxEventBytes, options.SchemaModes, options.UndeclaredTypes == "refuse")
    {
    }

    /// <summary>Admits every event: no declared types, the default size limit. For tests and tools that check nothing else.</summary>
    public static EventAdmission Open { get; } = new(new Dictionary<string, Dictionary<string, string>>(), new LimitOptions().MaxEventBytes);

    /// <summary>
    /// Replaces every declared type at once (the view catalog's replica calls it when the schemas change): events checked
    /// from the return on meet these. A kind that is not one of <see cref="Kinds"/> is refused before it gets here.
    /// </summary>
    public void Declare(IEnumerable<(string Type, IReadOnlyDictionary<string, string> Fields, bool Strict)> types) =>
        _declared = types.ToFrozenDictionary(t => t.Type, t =>
        {
            var fields = t.Fields.Select(f => KeyValuePair.Create(f.Key, Enum.Parse<Kind>(f.Value, ignoreCase: true))).ToArray();
            return new Declared(fields, fields.Select(f => Name(f.Value)).ToArray(), fields.Select(f => f.Key).ToFrozenSet(StringComparer.Ordinal), t.Strict);
        }, StringComparer.Ordinal);

    /// <summary>
    /// Why <paramref name="data"/> (an event of <paramref name="type"/>) cannot be admitted, or null. Deletes carry no data
    /// to check; <paramref name="dataBytes"/> is the data's size as it came when the caller knows it (else it is measured).
    /// </summary>
    public EventRefusal? Check(string type, JsonElement data, int? dataBytes = null)
    {
        var bytes = dataBytes ?? Measure(data);
        if (bytes > _maxEventBytes)
            return new EventRefusal("", $"has {bytes} bytes; at most {_maxEventBytes} are accepted per event (setting ContextLake:Limits:MaxEventBytes)");
        if (EventNumbers.OutOfRange(data) is { } number) return new EventRefusal(number.Path, number.Reason);
        if (!_declared.TryGetValue(type, out var declared))
            return _refuseUndeclaredTypes
                ? new EventRefusal("", $"is of type '{type}', which has no schema ({Setting}:{type}) while ContextLake:UndeclaredTypes is refuse")
                : null;
        if (data.ValueKind != JsonValueKind.Object) return null;
        var fields = declared.Fields;
        for (var i = 0; i < fields.Length; i++)
        {
            var (field, kind) = fields[i];
            if (!data.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) continue;
            if (!Fits(kind, value))
                return new EventRefusal(field, $"{type}.{field} is declared {declared.KindNames[i]} ({Setting}), but the value is {Describe(value)}");
        }
        if (declared.Strict)
            foreach (var p in data.EnumerateObject())
                if (!declared.Names.Contains(p.Name))
                    return new EventRefusal(p.Name, $"{type}.{p.Name} is not declared ({Setting}:{type}) and {type} is strict (ContextLake:SchemaModes:{type})");
        return null;
    }

    private static string Name(Kind kind) => Kinds[(int)kind];

    private static int Measure(JsonElement data)
    {
        try
        {
            return JsonMarshal.GetRawUtf8Value(data).Length;
        }
        catch (InvalidOperationException)
        {
            return data.GetRawText().Length;
        }
    }

    private static bool Fits(Kind kind, JsonElement value) => kind switch
    {
        Kind.Number => value.ValueKind == JsonValueKind.Number,
        Kind.String => value.ValueKind == JsonValueKind.String,
        Kind.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        Kind.Time => value.ValueKind == JsonValueKind.String && IsTimestamp(value),
        Kind.Vector => value.ValueKind == JsonValueKind.Array && AllNumbers(value),
        _ => true,
    };

    private static bool AllNumbers(JsonElement array)
    {
        foreach (var x in array.EnumerateArray())
            if (x.ValueKind != JsonValueKind.Number) return false;
        return true;
    }

    /// <summary>
    /// A time value: an ISO 8601 timestamp such as "2026-11-24T10:00:00Z" (UTC when it names no offset). The yyyy-MM- prefix
    /// check keeps short strings such as "10" from being read as dates by the lenient parser. Views compare time columns by it.
    /// </summary>
    public static bool TryTimestamp(string text, out DateTimeOffset value) => TryTimestamp(text.AsSpan(), out value);

    /// <inheritdoc cref="TryTimestamp(string, out DateTimeOffset)"/>
    public static bool TryTimestamp(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        value = default;
        return text.Length >= 10 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2])
            && char.IsAsciiDigit(text[3]) && text[4] == '-' && text[7] == '-'
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    // A JSON string read as a timestamp without making a string of it (this runs for every time field of every event):
    // a timestamp is short and has no escapes, so its raw text between the quotes is the value.
    private static bool IsTimestamp(JsonElement value)
    {
        ReadOnlySpan<byte> raw;
        try
        {
            raw = JsonMarshal.GetRawUtf8Value(value);
        }
        catch (InvalidOperationException)
        {
            return TryTimestamp(value.GetString()!, out _);
        }
        if (raw.Length > 66 || raw.IndexOf((byte)'\\') >= 0) return TryTimestamp(value.GetString()!, out _);
        Span<char> chars = stackalloc char[64];
        var n = System.Text.Encoding.UTF8.GetChars(raw[1..^1], chars);
        return TryTimestamp(chars[..n], out _);
    }

    /// <summary>A value as a refusal quotes it: its JSON kind and, when short, the value itself.</summary>
    private static string Describe(JsonElement value)
    {
        var kind = value.ValueKind switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => value.ValueKind.ToString().ToLowerInvariant(),
        };
        var raw = value.GetRawText();
        return raw.Length <= 40 ? $"{kind}, {raw}" : $"{kind}, {raw[..40]}…";
    }
}
