// The decision log's settings (ContextLake:Decisions): how long a recorded decision is kept, and the bounds on
// what a client may attach to one (its id and its labels).
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

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Retention < TimeSpan.FromSeconds(1) || Retention > TimeSpan.FromDays(3650))
            errors.Add($"{Section}:Retention: must be 1 second to 3650 days (is {Retention})");
        if (MaxIdLength is < 1 or > 4096)
            errors.Add($"{Section}:MaxIdLength: must be 1 to 4096 (is {MaxIdLength})");
        if (MaxLabelsBytes is < 2 or > 1024 * 1024)
            errors.Add($"{Section}:MaxLabelsBytes: must be 2 to 1048576 (is {MaxLabelsBytes})");
        return errors;
    }

    /// <summary>How often expired decisions are deleted: a tenth of the retention, at least every second, at most hourly.</summary>
    public TimeSpan SweepEvery => TimeSpan.FromTicks(Math.Clamp(Retention.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerHour));
}
