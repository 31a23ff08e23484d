// Writes runs of one stream's raw records: once the node has room for the run (StreamRuns), decodes, maps and admits
// each record (EventAdmission; failures become dead letters, and the stream moves on) and submits the events as the
// run. Every connector type writes through this, one run of a stream after another, while earlier ones are applied.
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Platform.Ingest;

namespace ContextLake.Connectors.Framework;

/// <summary>A record as a source read it: its offset in the stream and its bytes.</summary>
public readonly record struct RawRecord(long Offset, ReadOnlyMemory<byte> Bytes);

public sealed class ConnectorStream(ConnectorContext context, string stream, RecordMapping mapping)
{
    public string Stream { get; } = stream;

    /// <summary>
    /// Submits <paramref name="records"/> (ascending offsets) as a run ending at the last offset, and returns once it is
    /// admitted; the stream's watermark reaches that offset when the run (and every earlier one) is applied.
    /// <paramref name="decode"/> turns a record into JSON (default: the bytes are UTF-8 JSON).
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<RawRecord> records, CancellationToken cancel, Func<RawRecord, JsonElement>? decode = null)
    {
        if (records.Count == 0) return;
        await context.WhenRunning(cancel);
        // Room first, then decoding: a stream waiting for room (the node's budget of events in flight) holds raw records only.
        var admission = await context.Runs.AdmitAsync(Stream, records.Count, cancel);
        Task<RunReport> applied;
        var upTo = records[^1].Offset;
        var dead = new List<DeadLetter>();
        try
        {
            var events = new List<IngestEvent>(records.Count);
            var now = DateTimeOffset.UtcNow;
            foreach (var r in records)
            {
                try
                {
                    var value = decode is null ? ParseJson(r.Bytes) : decode(r);
                    var e = mapping.Map(Stream, r.Offset, value, now);
                    if (e.Kind != EventKind.Delete && context.Admission.Check(e.EntityType, e.Data) is { } refusal)
                    {
                        dead.Add(new DeadLetter(context.Name, Stream, r.Offset, r.Bytes.ToArray(), refusal.At("data"), now));
                        continue;
                    }
                    events.Add(e);
                }
                catch (Exception ex) when (ex is RecordMappingException or JsonException)
                {
                    dead.Add(new DeadLetter(context.Name, Stream, r.Offset, r.Bytes.ToArray(),
                        ex is JsonException je ? $"not JSON: {je.Message}" : ex.Message, now));
                }
            }

            // Dead letters are kept before the watermark passes them: a committed offset is never lost.
            await context.DeadLetters.WriteAsync(dead, cancel);
            applied = admission.Submit(events, upTo, upTo);
        }
        catch
        {
            admission.Cancel();
            throw;
        }
        context.Report(Stream, upTo, 0, dead.Count);
        _ = applied.ContinueWith(_ => context.Report(Stream, upTo, upTo, 0), TaskContinuationOptions.OnlyOnRanToCompletion);
    }

    /// <summary>The record as JSON: the document is not disposed, its root becomes the event's data (the record's bytes are its own).</summary>
    private static JsonElement ParseJson(ReadOnlyMemory<byte> bytes) => JsonDocument.Parse(bytes).RootElement;

    public static string Describe(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
