// What every decision read goes through, whichever protocol asked it (POST /v1/read with "decision", or the Redis
// protocol's CONTEXTLAKE.DECISION before a read): its id and labels checked against Decisions:MaxIdLength and
// MaxLabelsBytes, its request kept as compact JSON with the hash that recognises it when it is sent again, and the
// decision log's outcome turned into what to answer: the answer on the record, or a problem (another request under
// the id, 409; a log that cannot record, 503). The problems' details are the protocols' error texts.
using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ContextLake.Gateway.Problems;

namespace ContextLake.Gateway.Decisions;

public static class DecisionRequests
{
    /// <summary>Why <paramref name="id"/> (quoted as <paramref name="asSent"/>) names no decision, or null when it does.</summary>
    public static string? IdProblem(string? id, string field, string asSent, DecisionOptions options) =>
        string.IsNullOrWhiteSpace(id) || id.Length > options.MaxIdLength
            ? $"{field} must be a string of 1 to {options.MaxIdLength} characters naming the decision " +
              $"(setting {DecisionOptions.Section}:MaxIdLength), not {Problem.Shorten(asSent)}"
            : null;

    /// <summary>Why <paramref name="labels"/> cannot describe a decision (not an object, or too large), or null.</summary>
    public static string? LabelsProblem(JsonElement labels, DecisionOptions options)
    {
        if (labels.ValueKind != JsonValueKind.Object) return $"labels must be a JSON object, not {Problem.Shorten(labels.GetRawText())}";
        var bytes = Encoding.UTF8.GetByteCount(labels.GetRawText());
        return bytes > options.MaxLabelsBytes
            ? $"labels take {bytes} bytes, more than {options.MaxLabelsBytes} (setting {DecisionOptions.Section}:MaxLabelsBytes)"
            : null;
    }

    /// <summary>Labels sent as JSON text: the object, or why they are none.</summary>
    public static (JsonElement? Labels, string? Problem) ParseLabels(string text, DecisionOptions options)
    {
        JsonElement labels;
        try
        {
            using var doc = JsonDocument.Parse(text);
            labels = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, $"labels must be a JSON object, not '{Problem.Shorten(text)}', which is not JSON");
        }
        return LabelsProblem(labels, options) is { } problem ? (null, problem) : (labels, null);
    }

    /// <summary>A request as recorded, written by <paramref name="write"/> as compact JSON, and its hash: the same request sent
    /// again is recognised by it.</summary>
    public static (string Json, string Hash) Request(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return (Encoding.UTF8.GetString(buffer.WrittenSpan), Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan)));
    }

    /// <summary>
    /// Records decision <paramref name="id"/> (its request, the epoch it was answered at and the answer) and returns once it is
    /// durable: the record to answer from (the one made now, or the first one when this request was sent before: Replayed),
    /// or the problem when there is none to answer (409 another request under the id, 503 the log could not record).
    /// </summary>
    public static async Task<(DecisionRecord? Recorded, bool Replayed, Problem? Problem)> DecideAsync(this DecisionLog log, string id, long epoch,
        (string Json, string Hash) request, string answer, CancellationToken cancel)
    {
        try
        {
            var (outcome, recorded) = await log.RecordAsync(new DecisionRecord(id, DateTimeOffset.UtcNow, epoch, request.Hash, request.Json, answer), cancel);
            return outcome == DecisionOutcome.Conflict
                ? (null, false, new Problem(StatusCodes.Status409Conflict, "Decision already recorded",
                    $"decision '{id}' was recorded at {recorded.RecordedAt:O} with another request; a decision id names one request " +
                    $"(GET /v1/decisions/{Uri.EscapeDataString(id)} shows it)"))
                : (recorded, outcome == DecisionOutcome.Replayed, null);
        }
        catch (DecisionLogUnavailableException ex)
        {
            return (null, false, new Problem(StatusCodes.Status503ServiceUnavailable, "Decision log unavailable",
                $"decision '{id}' could not be recorded, so it is not answered: {ex.Message}"));
        }
    }
}
