// The event-time arithmetic of a view's window: which pane a time falls in, when a time is too late, how much history is kept.
using System.Text;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Algebra;

internal enum WindowKind
{
    None,
    Tumbling,
    Hopping,
    Session,
}

/// <summary>
/// All times are ticks since the Unix epoch so panes align to the epoch (a 7-day tumbling window starts on a
/// Thursday, as in most stream processors) rather than to year 1.
/// </summary>
internal sealed class WindowLayout
{
    public static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    private static readonly long MinRetention = TimeSpan.FromHours(1).Ticks;

    private WindowLayout(WindowKind kind, long size, long slide, long pane, long lateness)
    {
        Kind = kind;
        Size = size;
        Slide = slide;
        PaneWidth = pane;
        Lateness = lateness;
        Retention = kind == WindowKind.None ? long.MaxValue : Math.Max(size, MinRetention) + lateness;
    }

    public WindowKind Kind { get; }

    /// <summary>Tumbling and hopping size, or the session gap: the window's extent.</summary>
    public long Size { get; }

    public long Slide { get; }

    public long PaneWidth { get; }

    public long Lateness { get; }

    /// <summary>How far before the newest event time panes are kept, and so the largest span a read may ask for.</summary>
    public long Retention { get; }

    public static WindowLayout For(ViewDefinition view)
    {
        var lateness = view.Window?.AllowedLateness.Ticks ?? 0;
        if (lateness < 0) throw new ArgumentException($"view {view.Name}: allowed lateness must not be negative");
        return view.Window switch
        {
            null => new WindowLayout(WindowKind.None, 0, 0, 0, 0),
            TumblingWindow t => new WindowLayout(WindowKind.Tumbling, Positive(view, t.Size, "tumbling size"), 0, t.Size.Ticks, lateness),
            // Panes of gcd(size, slide) keep every window boundary on a pane boundary even when size is not a multiple of slide.
            HoppingWindow h => new WindowLayout(WindowKind.Hopping, Positive(view, h.Size, "hopping size"), Positive(view, h.Slide, "hopping slide"),
                Gcd(h.Size.Ticks, h.Slide.Ticks), lateness),
            SessionWindow s => new WindowLayout(WindowKind.Session, Positive(view, s.Gap, "session gap"), 0, TimeSpan.TicksPerMillisecond, lateness),
            _ => throw new ArgumentException($"view {view.Name}: unsupported window {view.Window.GetType().Name}"),
        };
    }

    public static long Ticks(DateTimeOffset t) => t.UtcTicks - UnixEpochTicks;

    public static DateTimeOffset Time(long ticks) => new(ticks + UnixEpochTicks, TimeSpan.Zero);

    public static long FloorTo(long t, long unit)
    {
        var q = t / unit;
        if (t % unit != 0 && t < 0) q--;
        return q * unit;
    }

    public long PaneStart(long t) => Kind == WindowKind.None ? 0 : FloorTo(t, PaneWidth);

    /// <summary>Session buckets are instants, so they end where they start; other panes end one width later.</summary>
    public long PaneEnd(long start) => Kind == WindowKind.Session ? start : start + PaneWidth;

    /// <summary>True when the last window that could contain <paramref name="t"/> closed more than the lateness before <paramref name="max"/>.</summary>
    public bool IsLate(long t, long max) => Kind switch
    {
        WindowKind.None => false,
        WindowKind.Tumbling => FloorTo(t, Size) + Size + Lateness <= max,
        // Hop windows end on slide boundaries; the last one holding t ends at the last boundary within t + size.
        WindowKind.Hopping => FloorTo(t + Size, Slide) + Lateness <= max,
        WindowKind.Session => FloorTo(t, PaneWidth) + Size + Lateness <= max,
        _ => false,
    };

    public bool IsExpired(long paneStart, long max) => Kind != WindowKind.None && PaneEnd(paneStart) + Retention < max;

    /// <summary>The unit a span must be a multiple of; sessions accept any positive span.</summary>
    public long SpanUnit => Kind switch
    {
        WindowKind.Tumbling => Size,
        WindowKind.Hopping => Slide,
        _ => 1,
    };

    public long LargestSpan => FloorTo(Retention, SpanUnit);

    public void CheckSpan(string view, TimeSpan span)
    {
        if (Kind == WindowKind.None)
            throw new InvalidWindowReadException($"view {view} has no window; window= applies to windowed views only");
        if (span.Ticks <= 0)
            throw new InvalidWindowReadException($"view {view}: window= must be positive, got {Describe(span.Ticks)}");
        if (span.Ticks % SpanUnit != 0)
        {
            var what = Kind == WindowKind.Tumbling ? "tumbling size" : "hopping slide";
            throw new InvalidWindowReadException(
                $"view {view}: window= {Describe(span.Ticks)} must be a multiple of the {what} {Describe(SpanUnit)}");
        }
        if (span.Ticks > LargestSpan)
            throw new InvalidWindowReadException(
                $"view {view}: window= {Describe(span.Ticks)} is longer than the history kept; the largest allowed span is {Describe(LargestSpan)}");
    }

    /// <summary>Compact durations such as 1h30m or 250ms, the way a user would write them in a query.</summary>
    public static string Describe(long ticks)
    {
        if (ticks == 0) return "0s";
        var sb = new StringBuilder();
        if (ticks < 0)
        {
            sb.Append('-');
            ticks = -ticks;
        }
        (long Unit, string Name)[] units =
        [
            (TimeSpan.TicksPerDay, "d"), (TimeSpan.TicksPerHour, "h"), (TimeSpan.TicksPerMinute, "m"),
            (TimeSpan.TicksPerSecond, "s"), (TimeSpan.TicksPerMillisecond, "ms"), (1, "ticks"),
        ];
        foreach (var (unit, name) in units)
        {
            if (ticks < unit) continue;
            sb.Append(ticks / unit).Append(name);
            ticks %= unit;
        }
        return sb.ToString();
    }

    private static long Positive(ViewDefinition view, TimeSpan value, string what) =>
        value.Ticks > 0 ? value.Ticks : throw new ArgumentException($"view {view.Name}: the {what} must be positive");

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
