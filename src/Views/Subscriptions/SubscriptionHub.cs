// The node's subscription hub: from the writers' change notices and the committed epochs it keeps a log
// of which view keys changed in which epoch, bounded by the history horizon (and a key budget), that every
// subscription on this node follows with its own cursor. An epoch enters the log only once the notices
// of every stream it advances have arrived, so no change is ever attributed to a later epoch or missed.
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Views.Subscriptions;

/// <summary>The view keys changed between <see cref="Before"/> and <see cref="Epoch"/> (no epoch this node followed lies between).</summary>
public sealed record EpochChanges(Epoch Before, Epoch Epoch, IReadOnlyDictionary<string, ViewKeysChanged> Views)
{
    public long N => Epoch.N;
}

/// <summary>The keys of one view incarnation that changed, in ordinal order: the order events of an epoch are sent in.</summary>
public sealed record ViewKeysChanged(long Incarnation, IReadOnlyList<string> Keys);

/// <summary>One subscription's place in the log: the last epoch it has fully sent, and why the hub ended it, if it did.</summary>
public sealed class Subscriber
{
    private long _cursor;
    private volatile string? _cutOff;
    private volatile string? _cutOffKind;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Subscriber(long cursor) => _cursor = cursor;

    /// <summary>Completes when the hub cuts this subscription off.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Every change up to this epoch has been written to the client.</summary>
    public long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>Why the hub ended this subscription (sent to the client as its last event); null while it runs.</summary>
    public string? CutOffReason => _cutOff;

    /// <summary>The metric label of the cut-off: lagging, horizon or notices.</summary>
    public string? CutOffKind => _cutOffKind;

    public void Delivered(long epoch)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _cursor)) < epoch && Interlocked.CompareExchange(ref _cursor, epoch, seen) != seen)
        {
        }
    }

    internal void CutOff(string kind, string reason)
    {
        if (_cutOff is not null) return;
        _cutOffKind = kind;
        _cutOff = reason;
        _ended.TrySetResult();
    }
}

public enum ResumeRefusal
{
    None,
    Gone,
    Newer,
    NotStarted,
    Full,
}

public sealed class SubscriptionHub(EpochClock clock, SubscriptionOptions options)
{
    private readonly record struct Noticed(string Stream, long Offset, string View, long Incarnation, string Key);

    private readonly object _gate = new();
    private readonly List<EpochChanges> _log = new();
    private readonly Dictionary<string, long> _noticed = new(StringComparer.Ordinal);
    private readonly List<(Epoch Epoch, DateTime Since)> _waiting = new();
    private readonly List<Noticed> _unassigned = new();
    private readonly HashSet<Subscriber> _subscribers = new();
    private TaskCompletionSource _appended = NewSignal();
    private Epoch? _base;
    private Epoch? _last;
    private long _received = -1;
    private long _loggedKeys;

    /// <summary>The latest epoch the log has followed; null until the hub has seen its first epoch.</summary>
    public Epoch? Last
    {
        get { lock (_gate) return _last; }
    }

    /// <summary>The oldest epoch a subscription may resume after: the hub's own start or the history horizon, whichever is later.</summary>
    public long ReplayFloor
    {
        get { lock (_gate) return Math.Max(_base?.N ?? long.MaxValue, clock.Horizon.N); }
    }

    public int Count
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    public void Notice(ViewChangeNotice notice)
    {
        lock (_gate)
        {
            if (!_noticed.TryGetValue(notice.Stream, out var upTo) || notice.UpTo > upTo) _noticed[notice.Stream] = notice.UpTo;
            var floor = _last?[notice.Stream] ?? 0;
            foreach (var k in notice.Keys)
            foreach (var offset in k.Offsets)
                if (offset > floor)
                    _unassigned.Add(new Noticed(notice.Stream, offset, k.View, k.Incarnation, k.Key));
            Follow(DateTime.UtcNow);
        }
    }

    public void Committed(Epoch epoch)
    {
        lock (_gate)
        {
            if (epoch.N <= _received) return;
            _received = epoch.N;
            if (_base is null)
            {
                // The hub starts at the first epoch it hears of: what it commits is the starting state, not change.
                _base = _last = epoch;
                foreach (var (stream, offset) in epoch.Vector)
                    if (!_noticed.TryGetValue(stream, out var o) || offset > o) _noticed[stream] = offset;
                _unassigned.RemoveAll(n => epoch.Covers(n.Stream, n.Offset));
                Signal();
                return;
            }
            _waiting.Add((epoch, DateTime.UtcNow));
            Follow(DateTime.UtcNow);
        }
    }

    /// <summary>Called periodically: an epoch whose notices never came (a lost message) must not stall subscriptions forever.</summary>
    public void CheckStalled()
    {
        lock (_gate) Follow(DateTime.UtcNow);
    }

    /// <summary>
    /// Registers a subscription that has sent everything up to epoch <paramref name="from"/> (a resume), or, when
    /// null, one that starts with a snapshot at the hub's latest epoch (<c>Start</c>).
    /// </summary>
    public (Subscriber? Subscriber, Epoch? Start, ResumeRefusal Refusal) Subscribe(long? from)
    {
        lock (_gate)
        {
            if (_subscribers.Count >= options.MaxSubscribers) return (null, null, ResumeRefusal.Full);
            if (_last is null) return (null, null, ResumeRefusal.NotStarted);
            Subscriber subscriber;
            Epoch start;
            if (from is { } n)
            {
                if (n > clock.Latest.N && n > _last.N) return (null, null, ResumeRefusal.Newer);
                if (n < Math.Max(_base!.N, clock.Horizon.N)) return (null, null, ResumeRefusal.Gone);
                subscriber = new Subscriber(n);
            }
            else
            {
                subscriber = new Subscriber(_last.N);
            }
            start = _last;
            _subscribers.Add(subscriber);
            Platform.Telemetry.Metrics.Subscribers.Set(_subscribers.Count);
            return (subscriber, start, ResumeRefusal.None);
        }
    }

    public void Unsubscribe(Subscriber subscriber)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscriber);
            Platform.Telemetry.Metrics.Subscribers.Set(_subscribers.Count);
        }
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until the log has followed epoch <paramref name="n"/>, so a snapshot
    /// taken just after a write the client saw committed includes it. Past the timeout an older snapshot is still correct.
    /// </summary>
    public async Task CatchUpAsync(long n, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task appended;
            lock (_gate)
            {
                if (_last is not null && _last.N >= n) return;
                appended = _appended.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return;
            try
            {
                await appended.WaitAsync(left, cancel);
            }
            catch (TimeoutException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The logged epochs after the subscriber's cursor (at most <paramref name="max"/>), or an empty list and a
    /// task that completes when more arrive. A cut-off subscriber gets nothing more.
    /// </summary>
    public (IReadOnlyList<EpochChanges> Next, Task More) After(Subscriber subscriber, int max)
    {
        lock (_gate)
        {
            if (subscriber.CutOffReason is not null) return ([], Task.CompletedTask);
            var cursor = subscriber.Cursor;
            var first = FirstAfter(cursor);
            if (first < _log.Count) return (_log.GetRange(first, Math.Min(max, _log.Count - first)), Task.CompletedTask);
            return ([], _appended.Task);
        }
    }

    /// <summary>Moves the log forward over every waiting epoch whose notices are all in; then trims and polices.</summary>
    private void Follow(DateTime now)
    {
        var appended = false;
        while (_waiting.Count > 0)
        {
            var (epoch, since) = _waiting[0];
            var missing = Missing(epoch);
            if (missing is not null)
            {
                if (now - since > options.NoticeTimeout) Restart(missing.Value, epoch);
                break;
            }
            _waiting.RemoveAt(0);
            Append(epoch);
            appended = true;
        }
        if (!appended) return;
        Trim();
        Police();
        Signal();
    }

    private (string Stream, long Noticed, long Committed)? Missing(Epoch epoch)
    {
        foreach (var (stream, offset) in epoch.Vector)
        {
            if (offset <= _last![stream]) continue;
            var noticed = _noticed.GetValueOrDefault(stream);
            if (offset > noticed) return (stream, noticed, offset);
        }
        return null;
    }

    private void Append(Epoch epoch)
    {
        var before = _last!;
        var views = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var incarnations = new Dictionary<string, long>(StringComparer.Ordinal);
        var kept = 0;
        for (var i = 0; i < _unassigned.Count; i++)
        {
            var n = _unassigned[i];
            if (!epoch.Covers(n.Stream, n.Offset))
            {
                _unassigned[kept++] = n;
                continue;
            }
            // Offsets the previous epoch already covered were noticed again (a redelivery): not a change now.
            if (before.Covers(n.Stream, n.Offset)) continue;
            // A view dropped and created again within one epoch: only its newest incarnation is followed.
            var known = incarnations.TryGetValue(n.View, out var inc);
            if (known && n.Incarnation < inc) continue;
            if (!known || n.Incarnation > inc)
            {
                incarnations[n.View] = n.Incarnation;
                views[n.View] = new SortedSet<string>(StringComparer.Ordinal);
            }
            views[n.View].Add(n.Key);
        }
        _unassigned.RemoveRange(kept, _unassigned.Count - kept);

        var changes = views.ToDictionary(kv => kv.Key, kv => new ViewKeysChanged(incarnations[kv.Key], kv.Value.ToList()), StringComparer.Ordinal);
        _log.Add(new EpochChanges(before, epoch, changes));
        _loggedKeys += changes.Values.Sum(v => v.Keys.Count);
        _last = epoch;
    }

    /// <summary>Drops epochs whose before-state has left the history horizon (or that exceed the key budget).</summary>
    private void Trim()
    {
        var horizon = clock.Horizon.N;
        var drop = 0;
        var dropped = 0L;
        while (drop < _log.Count && (_log[drop].Before.N < horizon || _loggedKeys - dropped > options.LogKeys))
        {
            dropped += _log[drop].Views.Values.Sum(v => v.Keys.Count);
            drop++;
        }
        if (drop == 0) return;
        _base = _log[drop - 1].Epoch;
        _log.RemoveRange(0, drop);
        _loggedKeys -= dropped;
    }

    private void Police()
    {
        foreach (var s in _subscribers)
        {
            if (s.CutOffReason is not null) continue;
            var cursor = s.Cursor;
            if (_last!.N - cursor > options.MaxLagEpochs)
                CutOff(s, "lagging", $"the client read too slowly: it was {_last.N - cursor} epochs behind the latest ({_last.N}), more than ContextLake:Subscriptions:MaxLagEpochs ({options.MaxLagEpochs}); resume with Last-Event-ID");
            else if (cursor < _base!.N)
                CutOff(s, "horizon", $"the client read too slowly: it had taken epoch {cursor}, and the oldest this node keeps is {_base.N} (setting ContextLake:Epochs:History); subscribe again for a new snapshot");
        }
    }

    /// <summary>
    /// Notices of an epoch never came (a message lost between nodes): the log cannot say what changed, so it
    /// restarts at that epoch and every subscription ends with the reason; clients resubscribe for a snapshot.
    /// </summary>
    private void Restart((string Stream, long Noticed, long Committed) missing, Epoch at)
    {
        var reason = $"change notices of stream {missing.Stream} reached offset {missing.Noticed} on this node, but epoch {at.N} commits up to {missing.Committed}, " +
                     $"and the rest did not come within ContextLake:Subscriptions:NoticeTimeout ({options.NoticeTimeout}); subscribe again for a new snapshot";
        foreach (var s in _subscribers) CutOff(s, "notices", reason);
        var latest = _waiting[^1].Epoch;
        _waiting.Clear();
        _log.Clear();
        _loggedKeys = 0;
        _base = _last = latest;
        foreach (var (stream, offset) in latest.Vector)
            if (!_noticed.TryGetValue(stream, out var o) || offset > o) _noticed[stream] = offset;
        _unassigned.RemoveAll(n => latest.Covers(n.Stream, n.Offset));
        Signal();
    }

    private static void CutOff(Subscriber s, string kind, string reason)
    {
        s.CutOff(kind, reason);
        Platform.Telemetry.Metrics.SubscriptionsCutOff.WithLabels(kind).Inc();
    }

    private int FirstAfter(long cursor)
    {
        int lo = 0, hi = _log.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_log[mid].N <= cursor) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private void Signal()
    {
        var done = _appended;
        _appended = NewSignal();
        done.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
