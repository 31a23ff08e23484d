// Reconciles recorded decisions against the journal. A batch of decisions is checked together: the changes of
// every key they read are collected in one pass over each partition's journal (StateReader.LoadFromJournalAsync),
// then each decision's reads are answered twice from them: at the decision's epoch, as recorded with its answer
// (the replay check: the answer must come out byte for byte, anything else is a defect), and over every event
// whose event time is at or before the decision's read time, as the journal holds them now (the effective-state
// check: what a decision made with every event of its past would have read). Decisions made over HTTP are
// compared read by read as the response held them, those made over the Redis protocol key by key as the value
// GET answers (the key's fields as one JSON object, or null). Similarity searches are not reconciled; a
// decision that read only those is not checkable.
using System.Text.Json;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;
using Microsoft.Extensions.Options;

namespace ContextLake.Gateway.Decisions;

public sealed class JournalDecisionChecker(StateReader reader, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    : IDecisionChecker
{
    /// <summary>One read of a recorded decision: what it read, what it answered, and how a recomputed answer is put to compare with it.</summary>
    private sealed record RecordedRead(StateRead Read, JsonElement Answered, Func<object, JsonElement> Document);

    /// <summary>A recorded decision as the checks need it: its reads (similarity searches left out) and what each answered.</summary>
    private sealed record Parsed(DecisionRecord Record, Epoch Epoch, DateTimeOffset ReadAt, List<RecordedRead> Reads);

    public async Task<IReadOnlyList<DecisionCheck>> CheckAsync(IReadOnlyList<DecisionRecord> decisions, CancellationToken cancel)
    {
        var checks = new DecisionCheck?[decisions.Count];
        var parsed = new List<(int Index, Parsed Decision)>();
        for (var i = 0; i < decisions.Count; i++)
        {
            var (decision, problem) = Parse(decisions[i]);
            if (decision is null) checks[i] = new DecisionCheck(decisions[i].Id, decisions[i].RecordedAt, decisions[i].Epoch, CheckOutcome.NotCheckable, [], problem);
            else parsed.Add((i, decision));
        }

        var state = await reader.LoadFromJournalAsync(parsed.SelectMany(p => p.Decision.Reads.Select(r => r.Read)), eventTimes: true, cancel);
        var reads = parsed.Select(p => (IReadOnlyList<StateRead>)p.Decision.Reads.Select(r => r.Read).ToList()).ToList();
        var replayed = reader.ReadFromJournal(state, parsed.Select((p, i) => new JournalAsk(reads[i], new JournalCut.AtEpoch(p.Decision.Epoch), p.Decision.ReadAt)).ToList());
        var effective = reader.ReadFromJournal(state, parsed.Select((p, i) => new JournalAsk(reads[i], new JournalCut.ByEventTime(p.Decision.ReadAt), p.Decision.ReadAt)).ToList());
        for (var i = 0; i < parsed.Count; i++) checks[parsed[i].Index] = Check(parsed[i].Decision, replayed[i], effective[i]);
        return checks.Select(c => c!).ToList();
    }

    private DecisionCheck Check(Parsed decision, (object?[] Results, Problem?[] Problems) replay, (object?[] Results, Problem?[] Problems) effective)
    {
        var record = decision.Record;
        if (replay.Problems.Concat(effective.Problems).FirstOrDefault(p => p is not null) is { } problem)
            return new DecisionCheck(record.Id, decision.ReadAt, decision.Epoch.N, CheckOutcome.NotCheckable, [], $"{problem.Title}: {problem.Detail}");

        var checks = new List<ReadCheck>(decision.Reads.Count);
        for (var i = 0; i < decision.Reads.Count; i++)
        {
            var (read, answered, document) = decision.Reads[i];
            var replayed = document(replay.Results[i]!);
            var now = document(effective.Results[i]!);
            var differences = new List<string>();
            Differences(answered, now, "", differences);
            checks.Add(new ReadCheck(read.Where, Describe(read), JsonElement.DeepEquals(answered, replayed), answered, replayed, now, differences));
        }
        var outcome = checks.Any(c => !c.ReplayMatches) ? CheckOutcome.Defect
            : checks.Any(c => c.Differences.Count > 0) ? CheckOutcome.Changed
            : CheckOutcome.Unchanged;
        return new DecisionCheck(record.Id, decision.ReadAt, decision.Epoch.N, outcome, checks);
    }

    /// <summary>The read's answer as the decision read's response holds it.</summary>
    private JsonElement Document(ReadItemDoc item, object doc) =>
        JsonSerializer.SerializeToElement(DecisionReadEndpoints.Shape(item, doc), json.Value.SerializerOptions);

    /// <summary>The key's value as the Redis protocol's GET answers it: its fields as one JSON object, or null when it holds nothing.</summary>
    private static JsonElement RespValue(object doc) => doc switch
    {
        ViewKeyDoc { Exists: true } v => JsonSerializer.SerializeToElement(v.Values),
        EntityDoc { Exists: true } e => JsonSerializer.SerializeToElement(e.State),
        _ => JsonSerializer.SerializeToElement<object?>(null),
    };

    /// <summary>The keys a recorded Redis-protocol read asked: every argument of MGET and EXISTS, the first of the others.</summary>
    private static IEnumerable<(int Argument, string Key)> RespKeysOf(JsonElement command)
    {
        var args = command.EnumerateArray().Select(a => a.GetString() ?? "").ToList();
        if (args.Count < 2) yield break;
        var many = args[0].ToUpperInvariant() is "MGET" or "EXISTS";
        for (var i = 1; i < (many ? args.Count : 2); i++) yield return (i, args[i]);
    }

    private static string Describe(StateRead read) => read switch
    {
        EntityStateRead e => $"entity {e.Type}/{e.Id}",
        ViewStateRead { Window: { } w } v => $"view {v.View} key {v.Key} window {w}",
        ViewStateRead v => $"view {v.View} key {v.Key}",
        _ => read.Where,
    };

    /// <summary>
    /// The paths ("state.limit", "values.count") where the effective answer differs from the answered one; the positions an entity
    /// has applied ("applied") are left out: they say which offsets an epoch held, not what the state was.
    /// </summary>
    private static void Differences(JsonElement answered, JsonElement effective, string path, List<string> into)
    {
        if (path == "applied") return;
        if (answered.ValueKind == JsonValueKind.Object && effective.ValueKind == JsonValueKind.Object)
        {
            var names = answered.EnumerateObject().Select(p => p.Name).Union(effective.EnumerateObject().Select(p => p.Name), StringComparer.Ordinal);
            foreach (var name in names)
            {
                var sub = path.Length == 0 ? name : $"{path}.{name}";
                if (!answered.TryGetProperty(name, out var a)) into.Add(sub);
                else if (!effective.TryGetProperty(name, out var e)) into.Add(sub);
                else Differences(a, e, sub, into);
            }
            return;
        }
        if (!JsonElement.DeepEquals(answered, effective)) into.Add(path.Length == 0 ? "(value)" : path);
    }

    /// <summary>The recorded request's reads and the recorded answer's epoch, read time and results; or why the decision cannot be checked.</summary>
    private (Parsed?, string?) Parse(DecisionRecord record)
    {
        try
        {
            using var request = JsonDocument.Parse(record.Request);
            using var answer = JsonDocument.Parse(record.Answer);
            var root = answer.RootElement;
            var epochDoc = root.GetProperty("epoch");
            var vector = epochDoc.GetProperty("vector").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);
            var epoch = new Epoch(epochDoc.GetProperty("n").GetInt64(), vector, epochDoc.GetProperty("committedAt").GetDateTimeOffset());
            var readAt = root.GetProperty("at").GetDateTimeOffset();
            var results = root.GetProperty("results").EnumerateArray().Select(r => r.Clone()).ToList();
            var reads = new List<RecordedRead>();
            if (request.RootElement.TryGetProperty("resp", out var command))
            {
                var keys = RespKeysOf(command).ToList();
                if (results.Count != keys.Count) return (null, $"the recorded answer holds {results.Count} values for {keys.Count} keys");
                for (var i = 0; i < keys.Count; i++)
                {
                    var read = Resp.RespKeys.Parse(keys[i].Key, $"resp[{keys[i].Argument}]", out var problem)
                               ?? throw new FormatException($"resp[{keys[i].Argument}]: {problem}");
                    reads.Add(new RecordedRead(read, results[i].GetProperty("value").Clone(), RespValue));
                }
            }
            else
            {
                var (parsed, problem) = DecisionReadEndpoints.Parse(request.RootElement, int.MaxValue);
                if (problem is not null) return (null, $"the recorded request does not parse as a read: {problem.Detail}");
                var items = parsed!.Value.Item2;
                if (results.Count != items.Count) return (null, $"the recorded answer holds {results.Count} results for {items.Count} reads");
                for (var i = 0; i < items.Count; i++)
                {
                    var item = items[i];
                    if (DecisionReadEndpoints.StateReadOf(item, $"reads[{i}]") is { } read) reads.Add(new RecordedRead(read, results[i], doc => Document(item, doc)));
                }
            }
            return reads.Count == 0 ? (null, "the decision read only similarity searches, which are not reconciled") : (new Parsed(record, epoch, readAt, reads), null);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return (null, $"the record does not hold a decision read's request and answer: {ex.Message}");
        }
    }
}
