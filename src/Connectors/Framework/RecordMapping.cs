// How a connector's record becomes an event: which entity type, which field is the id, which the
// event time and which the kind. Every connector's config names these the same way.
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Events;

namespace ContextLake.Connectors.Framework;

public sealed record RecordMapping(string EntityType, string IdField, string? TimeField, string? KindField, EventKind DefaultKind)
{
    /// <summary>Reads entityType, idField, timeField, kindField and kind from a connector's config.</summary>
    public static RecordMapping From(ConnectorConfig config)
    {
        var entityType = config.RequiredString("entityType");
        if (!EntityKey.IsValidType(entityType))
            throw new ConnectorConfigException(config.Name, "entityType", $"'{entityType}' must be {Names.Rule}");
        var kind = config.OptionalString("kind") switch
        {
            null or "event" => EventKind.Event,
            "upsert" => EventKind.Upsert,
            "delete" => EventKind.Delete,
            var other => throw new ConnectorConfigException(config.Name, "kind", $"'{other}' is not one of event, upsert, delete"),
        };
        return new RecordMapping(entityType, config.RequiredString("idField"), config.OptionalString("timeField"), config.OptionalString("kindField"), kind);
    }

    /// <summary>Maps a decoded JSON record; throws <see cref="RecordMappingException"/> saying what is wrong with it.</summary>
    public IngestEvent Map(string stream, long offset, JsonElement value, DateTimeOffset arrival)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new RecordMappingException($"the record is {value.ValueKind}, not a JSON object");
        if (!value.TryGetProperty(IdField, out var idEl) || idEl.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            throw new RecordMappingException($"the record has no id field '{IdField}'");
        var id = idEl.ValueKind switch
        {
            JsonValueKind.String => idEl.GetString()!,
            JsonValueKind.Number => idEl.GetRawText(),
            _ => throw new RecordMappingException($"the id field '{IdField}' is {idEl.ValueKind}, not a string or a number"),
        };
        if (id.Length is 0 or > EntityKey.MaxIdLength)
            throw new RecordMappingException($"the id field '{IdField}' must be 1 to {EntityKey.MaxIdLength} characters");

        var time = arrival;
        if (TimeField is not null && value.TryGetProperty(TimeField, out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                time = parsed;
            else if (t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out var ms))
                time = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            else
                throw new RecordMappingException($"the time field '{TimeField}' is not an ISO 8601 timestamp or Unix milliseconds: {t.GetRawText()}");
        }

        var kind = DefaultKind;
        if (KindField is not null && value.TryGetProperty(KindField, out var k) && k.ValueKind == JsonValueKind.String)
        {
            kind = k.GetString() switch
            {
                "event" => EventKind.Event,
                "upsert" => EventKind.Upsert,
                "delete" => EventKind.Delete,
                var other => throw new RecordMappingException($"the kind field '{KindField}' is '{other}', not event, upsert or delete"),
            };
        }
        // The value is the event's data as it is: decoders hand over elements of documents they do not dispose.
        return new IngestEvent(stream, offset, time, EntityType, id, kind, kind == EventKind.Delete ? EmptyObject : value);
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();
}

/// <summary>A record that cannot become an event; it goes to the dead letters with this reason.</summary>
public sealed class RecordMappingException(string reason) : Exception(reason);
