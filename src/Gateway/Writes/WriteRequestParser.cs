// Turns a POST /v1/events body into PendingWrites, or into one problem that names the first fault
// and where it is (events[3].kind, line 4 byte 17). Nothing is written unless the whole batch parses.
using System.Globalization;
using System.Text.Json;
using ContextLake.Connectors.Http;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Events;

namespace ContextLake.Gateway.Writes;

public sealed class WriteRequestParser(int maxBatchEvents, EventAdmission admission)
{
    private const string Title = "Invalid write batch";
    private const int MaxKeyLength = 256;
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();
    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal) { "type", "id", "kind", "time", "key", "data" };

    public (IReadOnlyList<PendingWrite>? Writes, Problem? Problem) Parse(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            return (null, Problem.MalformedJson(ex));
        }

        // Not disposed: the events' data are elements of this document (no copy per event); it lives while they do.
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Fail($"the body must be a JSON object {{\"events\": [...]}}, not {Describe(root)}");
            if (!root.TryGetProperty("events", out var events))
                return Fail("the body has no \"events\" field");
            if (events.ValueKind != JsonValueKind.Array)
                return Fail($"events must be an array, not {Describe(events)}");
            var count = events.GetArrayLength();
            if (count == 0)
                return Fail("events is empty: a batch needs at least one event");
            if (count > maxBatchEvents)
                return (null, new Problem(StatusCodes.Status413PayloadTooLarge, "Batch too large",
                    $"the batch has {count} events; at most {maxBatchEvents} are accepted per request (setting ContextLake:Http:MaxBatchEvents)"));

            var writes = new List<PendingWrite>(count);
            var i = 0;
            foreach (var e in events.EnumerateArray())
            {
                var (write, error) = ParseEvent(e, $"events[{i}]", now, admission);
                if (error is not null) return Fail(error);
                writes.Add(write!);
                i++;
            }
            return (writes, null);
        }
    }

    private static (PendingWrite?, string?) ParseEvent(JsonElement e, string at, DateTimeOffset now, EventAdmission admission)
    {
        if (e.ValueKind != JsonValueKind.Object) return (null, $"{at} must be an object, not {Describe(e)}");
        foreach (var p in e.EnumerateObject())
            if (!KnownFields.Contains(p.Name))
                return (null, $"{at}.{p.Name} is not a field of an event (fields: type, id, kind, time, key, data)");

        if (!e.TryGetProperty("type", out var typeEl) || typeEl.ValueKind == JsonValueKind.Null)
            return (null, $"{at}.type is required");
        if (typeEl.ValueKind != JsonValueKind.String) return (null, $"{at}.type must be a string, not {Describe(typeEl)}");
        var type = typeEl.GetString()!;
        if (!EntityKey.IsValidType(type))
            return (null, $"{at}.type '{type}' must be {Names.Rule}");

        if (!e.TryGetProperty("id", out var idEl) || idEl.ValueKind == JsonValueKind.Null)
            return (null, $"{at}.id is required");
        var id = idEl.ValueKind switch
        {
            JsonValueKind.String => idEl.GetString()!,
            JsonValueKind.Number when idEl.TryGetInt64(out var n) => n.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        if (id is null) return (null, $"{at}.id must be a string or an integer, not {Describe(idEl)}");
        if (id.Length is 0 or > EntityKey.MaxIdLength) return (null, $"{at}.id must be 1 to {EntityKey.MaxIdLength} characters");

        var kind = EventKind.Event;
        if (e.TryGetProperty("kind", out var kindEl) && kindEl.ValueKind != JsonValueKind.Null)
        {
            var k = kindEl.ValueKind == JsonValueKind.String ? kindEl.GetString() : null;
            switch (k)
            {
                case "event": kind = EventKind.Event; break;
                case "upsert": kind = EventKind.Upsert; break;
                case "delete": kind = EventKind.Delete; break;
                default: return (null, $"{at}.kind {kindEl.GetRawText()} is not one of \"event\", \"upsert\", \"delete\"");
            }
        }

        var time = now;
        if (e.TryGetProperty("time", out var timeEl) && timeEl.ValueKind != JsonValueKind.Null)
        {
            if (timeEl.ValueKind != JsonValueKind.String ||
                !DateTimeOffset.TryParse(timeEl.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
                return (null, $"{at}.time {timeEl.GetRawText()} is not an ISO 8601 timestamp such as \"2026-11-24T10:00:00Z\"");
        }

        string? key = null;
        if (e.TryGetProperty("key", out var keyEl) && keyEl.ValueKind != JsonValueKind.Null)
        {
            if (keyEl.ValueKind != JsonValueKind.String) return (null, $"{at}.key must be a string, not {Describe(keyEl)}");
            key = keyEl.GetString()!;
            if (key.Length is 0 or > MaxKeyLength) return (null, $"{at}.key must be 1 to {MaxKeyLength} characters");
        }

        var data = EmptyObject;
        if (e.TryGetProperty("data", out var dataEl) && dataEl.ValueKind != JsonValueKind.Null)
        {
            if (dataEl.ValueKind != JsonValueKind.Object) return (null, $"{at}.data must be an object, not {Describe(dataEl)}");
            if (kind != EventKind.Delete)
            {
                if (admission.Check(type, dataEl) is { } refusal) return (null, refusal.At($"{at}.data"));
                data = dataEl;
            }
        }

        return (new PendingWrite(type, id, kind, time, data, key), null);
    }

    private static (IReadOnlyList<PendingWrite>?, Problem?) Fail(string detail) => (null, Problem.BadRequest(Title, detail));

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
