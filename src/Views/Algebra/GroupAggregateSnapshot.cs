// The durable form of a GroupAggregate: plain records that System.Text.Json source generation can write and read back.
using System.Text.Json;
using ContextLake.Platform.Events;

namespace ContextLake.Views.Algebra;

/// <summary>
/// Everything needed to rebuild a group's aggregate. <see cref="MaxEventTime"/> is null until a delta was applied;
/// it is kept because lateness and retention are measured from it.
/// </summary>
public sealed record GroupAggregateSnapshot(
    long LateEvents,
    DateTimeOffset? MaxEventTime,
    IReadOnlyList<PaneSnapshot> Panes);

/// <summary>
/// One pane, in ascending <see cref="Start"/> order. Views without a window have a single pane at the Unix epoch.
/// <see cref="Aggregates"/>[i] is the state of the view's aggregate i.
/// </summary>
public sealed record PaneSnapshot(
    DateTimeOffset Start,
    long Rows,
    IReadOnlyList<AggregateStateSnapshot> Aggregates);

/// <summary>
/// <see cref="Function"/> names the aggregate function so a snapshot taken under a different view definition is refused.
/// <see cref="Count"/> is the COUNT, or for SUM/AVG the weight of numeric arguments; <see cref="Sum"/> serves SUM/AVG;
/// <see cref="Values"/> holds the multiset of COUNT DISTINCT, MIN, MAX and LAST. <see cref="Exact"/> (written only when
/// set) is a SUM/AVG total that is not exactly a decimal, in units of 10^-28 (<see cref="Sum"/> is then 0).
/// <see cref="Overflowed"/> (written only when true) is a total whose exact value is unknown: snapshots written before
/// totals were kept exact marked a SUM/AVG that left the decimal range so.
/// </summary>
public sealed record AggregateStateSnapshot(
    string Function,
    long Count,
    decimal Sum,
    IReadOnlyList<WeightedValueSnapshot> Values,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    bool Overflowed = false,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Exact = null);

/// <summary>A multiset entry: the value, its net weight, and for LAST the version of the row it came from.</summary>
public sealed record WeightedValueSnapshot(
    JsonElement Value,
    long Weight,
    EventVersion? Version);
