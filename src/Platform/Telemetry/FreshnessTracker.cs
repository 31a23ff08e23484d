// Measures stream-to-serve delay: runs applied (see RunTracker) wait here until an epoch that commits
// them is published, then their delay (from event time, and from the moment they were read) is observed.
using ContextLake.Platform.Epochs;

namespace ContextLake.Platform.Telemetry;

public sealed class FreshnessTracker
{
    /// <summary>One per process, like the Prometheus registry it reports to.</summary>
    public static FreshnessTracker Shared { get; } = new();

    private const int MaxPending = 100_000;
    private readonly object _gate = new();
    private readonly LinkedList<(string Stream, long UpTo, DateTimeOffset ReadAt, DateTimeOffset? EventTime)> _pending = new();

    public void Applied(string stream, long upTo, DateTimeOffset readAt, DateTimeOffset? newestEventTime)
    {
        lock (_gate)
        {
            if (_pending.Count >= MaxPending) _pending.RemoveFirst();
            _pending.AddLast((stream, upTo, readAt, newestEventTime));
        }
    }

    public void Published(Epoch epoch)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            for (var node = _pending.First; node is not null;)
            {
                var next = node.Next;
                var (stream, upTo, readAt, eventTime) = node.Value;
                if (epoch.Covers(stream, upTo))
                {
                    Metrics.StreamToServeSeconds.WithLabels("read").Observe(Math.Max(0, (now - readAt).TotalSeconds));
                    if (eventTime is { } t) Metrics.StreamToServeSeconds.WithLabels("source").Observe(Math.Max(0, (now - t).TotalSeconds));
                    _pending.Remove(node);
                }
                node = next;
            }
        }
    }
}
