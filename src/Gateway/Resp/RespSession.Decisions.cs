// A connection's decision reads: CONTEXTLAKE.DECISION <id> [<labels>] names the connection's next read (GET, MGET,
// HGET, HMGET, HGETALL or EXISTS) a decision, which is answered once the decision log has recorded it, as POST /v1/read
// with "decision" is. The record's request is the command with the read point the connection had; its answer is the
// epoch and, for each key asked, the key and its value at that epoch (GET's JSON object, or null), from which every
// read command's reply is written: the same command again under the id gets the recorded values in the same reply,
// and a later reconciliation compares the answer key by key.
using System.Buffers;
using System.Text;
using System.Text.Json;
using ContextLake.Gateway.Decisions;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;

namespace ContextLake.Gateway.Resp;

public sealed partial class RespSession
{
    /// <summary>The decision the connection's next read is, from CONTEXTLAKE.DECISION.</summary>
    private sealed record ArmedDecision(string Id, JsonElement? Labels);

    /// <summary>A key's value as a recorded decision answered it: its fields, and GET's JSON of them byte for byte.</summary>
    private sealed record RecordedValue(IReadOnlyDictionary<string, JsonElement> Fields, byte[] Json);

    private ArmedDecision? _decision;

    /// <summary>CONTEXTLAKE.DECISION id [labels]: the next read is decision id. A refused one arms nothing (and disarms an earlier
    /// one, so that no read is recorded under an id the client meant to replace).</summary>
    private bool Arm(string[] args, RespWriter w)
    {
        _decision = null;
        var problem = DecisionRequests.IdProblem(args[1], "CONTEXTLAKE.DECISION's id", $"'{args[1]}'", decisionOptions);
        JsonElement? labels = null;
        if (problem is null && args.Length == 3) (labels, problem) = DecisionRequests.ParseLabels(args[2], decisionOptions);
        if (problem is not null)
        {
            w.Error("ERR " + problem);
            return false;
        }
        _decision = new ArmedDecision(args[1], labels);
        w.SimpleString("OK");
        return true;
    }

    /// <summary>
    /// Records the read as <paramref name="decision"/> and returns what to answer: the read as made (recorded now), the values and
    /// read point recorded the first time this command was sent under the id, or the problem (CONFLICT, TRYAGAIN) instead.
    /// </summary>
    private async ValueTask<(object?[] Results, ReadPoint Point, Problem? Problem)> DecideAsync(
        ArmedDecision decision, string command, string[] args, int keyCount, ReadPoint point, object?[] results, CancellationToken cancel)
    {
        var request = DecisionRequests.Request(json => WriteRequest(json, decision, command, args));
        var (recorded, replayed, problem) = await decisions.DecideAsync(
            decision.Id, point.Epoch.N, request, Answer(decision.Id, args, keyCount, point, results), cancel);
        if (problem is not null) return (results, point, problem);
        return replayed ? Replay(recorded!.Answer) : (results, point, null);
    }

    /// <summary>The request as recorded: the decision, its labels, the command as a Redis client sends it ("resp") and the
    /// connection's read point under the HTTP read's names (epoch, after, consistency, timeout), those it has set.</summary>
    private void WriteRequest(Utf8JsonWriter json, ArmedDecision decision, string command, string[] args)
    {
        json.WriteStartObject();
        json.WriteString("decision", decision.Id);
        if (decision.Labels is { } labels)
        {
            json.WritePropertyName("labels");
            labels.WriteTo(json);
        }
        json.WriteStartArray("resp");
        json.WriteStringValue(command);
        for (var i = 1; i < args.Length; i++) json.WriteStringValue(args[i]);
        json.WriteEndArray();
        if (_pinned is { } epoch) json.WriteNumber("epoch", epoch);
        if (_after.Count > 0)
        {
            json.WriteStartArray("after");
            foreach (var position in _after) json.WriteStringValue(position);
            json.WriteEndArray();
        }
        if (_consistency is not null) json.WriteString("consistency", _consistency);
        if (_timeout is not null) json.WriteString("timeout", _timeout);
        json.WriteEndObject();
    }

    /// <summary>The answer as recorded: {"epoch", "at", "results": [{"key", "value"}], "decision"}, each key asked with its value
    /// at the epoch as GET answers it (null when it holds nothing).</summary>
    private string Answer(string decision, string[] args, int keyCount, ReadPoint point, object?[] results)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WritePropertyName("epoch");
            JsonSerializer.Serialize(json, point.ToDoc(), EpochJson);
            json.WriteString("at", point.At);
            json.WriteStartArray("results");
            for (var i = 0; i < keyCount; i++)
            {
                json.WriteStartObject();
                json.WriteString("key", args[i + 1]);
                json.WritePropertyName("value");
                var value = ValueJson(results[i]);
                if (value.IsEmpty) json.WriteNullValue();
                else json.WriteRawValue(value);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("decision", decision);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A recorded answer as the read's results and read point: the reply is written from them as from a read, and
    /// CONTEXTLAKE.EPOCH then names the recorded epoch.</summary>
    private static (object?[] Results, ReadPoint Point, Problem? Problem) Replay(string answer)
    {
        using var doc = JsonDocument.Parse(answer);
        var root = doc.RootElement;
        var epoch = root.GetProperty("epoch").Deserialize<EpochDoc>(EpochJson)
                    ?? throw new InvalidDataException("a recorded decision's answer has no epoch");
        var results = root.GetProperty("results").EnumerateArray()
            .Select(r => r.GetProperty("value") is { ValueKind: JsonValueKind.Object } value
                ? new RecordedValue(value.EnumerateObject().ToDictionary(f => f.Name, f => f.Value.Clone()), Encoding.UTF8.GetBytes(value.GetRawText()))
                : null)
            .ToArray<object?>();
        var point = new ReadPoint(new Epoch(epoch.N, epoch.Vector, epoch.CommittedAt), root.GetProperty("at").GetDateTimeOffset(), StaleOk: false);
        return (results, point, null);
    }
}
