// The decision log's settings (ContextLake:Decisions): how long a recorded decision is kept, the bounds on
// what a client may attach to one (its id and its labels), and how reconciliation jobs page and what they keep.
namespace ContextLake.Gateway.Decisions;

public sealed class DecisionOptions
{
    public const string Section = "ContextLake:Decisions";

    /// <summary>A recorded decision is deleted this long after it was recorded.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The most characters in a decision's id.</summary>
    public int MaxIdLength { get; set; } = 256;

    /// <summary>The most bytes in a decision's labels (their JSON object).</summary>
    public int MaxLabelsBytes { get; set; } = 4096;

    /// <summary>Decisions a reconciliation job reads and checks at a time (one IDecisionChecker.CheckAsync call).</summary>
    public int ReconcileBatch { get; set; } = 10_000;

    /// <summary>Finished reconciliation jobs kept in memory for GET /v1/reconciliations; running ones are always kept.</summary>
    public int ReconcileJobsKept { get; set; } = 100;

    /// <summary>Changed and defective decisions a job keeps with their checks (the first ones found); the counts cover all.</summary>
    public int ReconcileDifferingKept { get; set; } = 1000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Retention < TimeSpan.FromSeconds(1) || Retention > TimeSpan.FromDays(3650))
            errors.Add($"{Section}:Retention: must be 1 second to 3650 days (is {Retention})");
        if (MaxIdLength is < 1 or > 4096)
            errors.Add($"{Section}:MaxIdLength: must be 1 to 4096 (is {MaxIdLength})");
        if (MaxLabelsBytes is < 2 or > 1024 * 1024)
            errors.Add($"{Section}:MaxLabelsBytes: must be 2 to 1048576 (is {MaxLabelsBytes})");
        if (ReconcileBatch is < 1 or > 100_000)
            errors.Add($"{Section}:ReconcileBatch: must be 1 to 100000 (is {ReconcileBatch})");
        if (ReconcileJobsKept is < 1 or > 10_000)
            errors.Add($"{Section}:ReconcileJobsKept: must be 1 to 10000 (is {ReconcileJobsKept})");
        if (ReconcileDifferingKept is < 0 or > 100_000)
            errors.Add($"{Section}:ReconcileDifferingKept: must be 0 to 100000 (is {ReconcileDifferingKept})");
        return errors;
    }

    /// <summary>How often expired decisions are deleted: a tenth of the retention, at least every second, at most hourly.</summary>
    public TimeSpan SweepEvery => TimeSpan.FromTicks(Math.Clamp(Retention.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerHour));
}
