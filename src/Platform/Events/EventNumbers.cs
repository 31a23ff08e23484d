// The numeric model, checked where events come in. Every number in an event's data is a decimal: at most
// 28–29 significant digits (more are rounded), magnitude below 7.9 × 10^28 (digits below 10^-28 round to
// zero). It is the type SUM and AVG add in, so a number outside it could only be dropped or rounded into a
// wrong total; instead the event is refused at its edge (HTTP answers 400 naming the field, a connector
// dead-letters the record with the same words) and nothing of it is journaled.
using System.Text.Json;

namespace ContextLake.Platform.Events;

public static class EventNumbers
{
    public const string Model = "numbers are decimals: at most 28 significant digits and a magnitude below 7.9e28";

    /// <summary>
    /// The first number in <paramref name="data"/> outside the numeric model, as "field: why" with the field's path
    /// (amount, limits.daily, scores[2]), or null when every number fits.
    /// </summary>
    public static string? FirstOutOfRange(JsonElement data) =>
        OutOfRange(data) is { } bad ? $"{(bad.Path.Length == 0 ? "value" : bad.Path)}: {bad.Reason}" : null;

    /// <summary>The first number outside the model: its path ("" for data itself) and why, or null.</summary>
    public static (string Path, string Reason)? OutOfRange(JsonElement data) =>
        Find(data) is { } bad ? (Path(bad.Path), $"{bad.Number.GetRawText()} is outside the numeric range ({Model})") : null;

    /// <summary>
    /// The first number outside the model, and its path (innermost first), built only on the way back from it: every event is
    /// checked, and almost every one fits.
    /// </summary>
    private static (JsonElement Number, List<string> Path)? Find(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                return value.TryGetDecimal(out _) ? null : (value, new List<string>());
            case JsonValueKind.Object:
                foreach (var p in value.EnumerateObject())
                {
                    if (Find(p.Value) is not { } bad) continue;
                    bad.Path.Add("." + p.Name);
                    return bad;
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (Find(item) is { } bad)
                    {
                        bad.Path.Add($"[{i}]");
                        return bad;
                    }
                    i++;
                }
                return null;
            default:
                return null;
        }
    }

    private static string Path(List<string> innermostFirst)
    {
        innermostFirst.Reverse();
        return string.Concat(innermostFirst).TrimStart('.');
    }
}
