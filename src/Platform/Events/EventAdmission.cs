// The contract every event meets before it is journaled, from every source: its data's size (Limits:MaxEventBytes),
// the numeric model (EventNumbers) and, for an entity type declared in ContextLake:Schemas, each declared field's kind.
// A refusal names the field, what was declared and what came; HTTP answers it as a 400 at events[i].data…, a connector
// dead-letters the record with the same words and moves on. A declared field that is absent or null is accepted (an
// upsert leaves it as it was, an aggregate skips it). Undeclared fields are accepted unless the type is strict
// (ContextLake:SchemaModes), types without a schema unless ContextLake:UndeclaredTypes is refuse.
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

public sealed class EventAdmission(
    IReadOnlyDictionary<string, Dictionary<string, string>> schemas, int maxEventBytes,
    IReadOnlyDictionary<string, string>? modes = null, bool refuseUndeclaredTypes = false)
{
    private const string Setting = "ContextLake:Schemas";

    public EventAdmission(NodeOptions options)
        : this(options.Schemas, options.Limits.MaxEventBytes, options.SchemaModes, options.UndeclaredTypes == "refuse")
    {
    }

    /// <summary>Admits every event: no declared types, the default size limit. For tests and tools that check nothing else.</summary>
    public static EventAdmission Open { get; } = new(new Dictionary<string, Dictionary<string, string>>(), new LimitOptions().MaxEventBytes);

    /// <summary>
    /// Why <paramref name="data"/> (an event of <paramref name="type"/>) cannot be admitted, or null. Deletes carry no data
    /// to check; <paramref name="dataBytes"/> is the data's size as it came when the caller knows it (else it is measured).
    /// </summary>
    public EventRefusal? Check(string type, JsonElement data, int? dataBytes = null)
    {
        var bytes = dataBytes ?? Measure(data);
        if (bytes > maxEventBytes)
            return new EventRefusal("", $"has {bytes} bytes; at most {maxEventBytes} are accepted per event (setting ContextLake:Limits:MaxEventBytes)");
        if (EventNumbers.OutOfRange(data) is { } number) return new EventRefusal(number.Path, number.Reason);
        if (!schemas.TryGetValue(type, out var declared))
            return refuseUndeclaredTypes
                ? new EventRefusal("", $"is of type '{type}', which has no schema ({Setting}:{type}) while ContextLake:UndeclaredTypes is refuse")
                : null;
        if (data.ValueKind != JsonValueKind.Object) return null;
        foreach (var (field, kind) in declared)
        {
            if (!data.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) continue;
            if (!Fits(kind, value))
                return new EventRefusal(field, $"{type}.{field} is declared {kind} ({Setting}), but the value is {Describe(value)}");
        }
        if (modes is not null && modes.TryGetValue(type, out var mode) && mode == "strict")
            foreach (var p in data.EnumerateObject())
                if (!declared.ContainsKey(p.Name))
                    return new EventRefusal(p.Name, $"{type}.{p.Name} is not declared ({Setting}:{type}) and {type} is strict (ContextLake:SchemaModes:{type})");
        return null;
    }

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

    private static bool Fits(string kind, JsonElement value) => kind switch
    {
        "number" => value.ValueKind == JsonValueKind.Number,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "time" => value.ValueKind == JsonValueKind.String && TryTimestamp(value.GetString()!, out _),
        "vector" => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number),
        _ => true,
    };

    /// <summary>
    /// A time value: an ISO 8601 timestamp such as "2026-11-24T10:00:00Z" (UTC when it names no offset). The yyyy-MM- prefix
    /// check keeps short strings such as "10" from being read as dates by the lenient parser. Views compare time columns by it.
    /// </summary>
    public static bool TryTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        return text.Length >= 10 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2])
            && char.IsAsciiDigit(text[3]) && text[4] == '-' && text[7] == '-'
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
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
