// What reconciling a recorded decision finds: for each read it answered, whether the value recomputed from
// the journal at the decision's epoch equals the value answered (the replay check: anything else is a
// defect), and the value recomputed over every event whose event time is at or before the decision's read
// time, as the journal holds them now, late arrivals included (the effective-state check), with what
// differs from the answer. A decision whose effective state differs is an "unexpected reconciliation delta".
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContextLake.Gateway.Decisions;

[JsonConverter(typeof(JsonStringEnumConverter<CheckOutcome>))]
public enum CheckOutcome
{
    /// <summary>Replayed exactly, and the effective state at the read time is what was answered.</summary>
    [JsonStringEnumMemberName("unchanged")]
    Unchanged,

    /// <summary>Replayed exactly, but events with an event time at or before the read time that the epoch did not commit change the answer.</summary>
    [JsonStringEnumMemberName("changed")]
    Changed,

    /// <summary>A value recomputed at the decision's epoch differs from the value answered: a defect, reported loudly.</summary>
    [JsonStringEnumMemberName("defect")]
    Defect,

    /// <summary>Nothing to check (the decision read only similarity searches), or its reads name what no longer exists.</summary>
    [JsonStringEnumMemberName("notCheckable")]
    NotCheckable,
}

/// <summary>
/// One read of a decision: where it stood in the request (reads[i]), what it read ("entity customer/7", "view card_velocity
/// key 4111"), the value answered, replayed and effective (each as the read's answer document), and the fields whose
/// effective value differs from the answer.
/// </summary>
public sealed record ReadCheck(string Where, string Read, bool ReplayMatches, JsonElement Answered, JsonElement? Replayed, JsonElement? Effective,
    IReadOnlyList<string> Differences);

/// <summary>A decision reconciled: its read time and epoch, the outcome, each read's check, and the problem that kept it from being checked.</summary>
public sealed record DecisionCheck(string Id, DateTimeOffset ReadAt, long Epoch, CheckOutcome Outcome, IReadOnlyList<ReadCheck> Reads, string? Problem = null);

/// <summary>Reconciles recorded decisions against the journal; a batch is checked together, so the journal is read once for all of them.</summary>
public interface IDecisionChecker
{
    Task<IReadOnlyList<DecisionCheck>> CheckAsync(IReadOnlyList<DecisionRecord> decisions, CancellationToken cancel);
}
