// A connector as users declare it: a name and a JSON config whose "type" picks the factory. The same
// shape comes from configuration files and from POST /v1/connectors (Kafka Connect's).
using System.Text.Json;

namespace ContextLake.Connectors.Framework;

public sealed record ConnectorConfig(string Name, JsonElement Config)
{
    /// <summary>The config from its JSON text; not an object or not JSON is a <see cref="ConnectorConfigException"/>.</summary>
    public static ConnectorConfig Parse(string name, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ConnectorConfigException(name, "", "must be a JSON object");
            return new ConnectorConfig(name, doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new ConnectorConfigException(name, "", $"is not valid JSON: {ex.Message}");
        }
    }

    public string Type => OptionalString("type") ?? throw new ConnectorConfigException(Name, "type", "is required");

    public string RequiredString(string field) =>
        OptionalString(field) is { Length: > 0 } s ? s : throw new ConnectorConfigException(Name, field, "is required (a string)");

    public string? OptionalString(string field) =>
        Config.ValueKind == JsonValueKind.Object && Config.TryGetProperty(field, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Null => null,
                _ => throw new ConnectorConfigException(Name, field, $"must be a string, not {v.ValueKind}"),
            }
            : null;

    public int OptionalInt(string field, int fallback, int min, int max)
    {
        if (Config.ValueKind != JsonValueKind.Object || !Config.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        var ok = v.ValueKind == JsonValueKind.Number ? v.TryGetInt32(out var n)
            : int.TryParse(v.ValueKind == JsonValueKind.String ? v.GetString() : null, System.Globalization.CultureInfo.InvariantCulture, out n);
        if (!ok || n < min || n > max)
            throw new ConnectorConfigException(Name, field, $"must be a whole number from {min} to {max}, not {v.GetRawText()}");
        return n;
    }

    /// <summary>Connector names become parts of stream ids (kafka:{connector}/…): identifiers only.</summary>
    public static bool IsValidName(string name) => Platform.Events.Names.IsValid(name);
}

/// <summary>A connector config that cannot run; the message names the connector and the field.</summary>
public sealed class ConnectorConfigException(string connector, string field, string reason)
    : Exception($"connector {connector}: config.{field} {reason}")
{
    public string Field { get; } = field;
}
