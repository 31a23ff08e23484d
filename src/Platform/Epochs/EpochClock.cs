// This node's replica of the committed epochs: the latest, and the history reads may ask for by number.
// Shared by the gateway and the actors on this node; updated only by EpochReplica. An epoch older than the
// history is looked up in the coordinator's journal (EpochHistory), once the platform's hosting has wired it.
namespace ContextLake.Platform.Epochs;

public sealed class EpochClock(TimeSpan history, int maxEpochs = 200_000)
{
    private readonly object _gate = new();
    private readonly LinkedList<Epoch> _history = new([Epoch.Zero]);
    private readonly List<(Func<Epoch, bool> Until, TaskCompletionSource<Epoch> Done)> _waiters = new();
    private volatile Action[] _listeners = [];
    private volatile Epoch _latest = Epoch.Zero;
    private volatile Epoch _horizon = Epoch.Zero;

    public Epoch Latest => _latest;

    /// <summary>False until the coordinator's latest epoch has reached this node: until then no read can be answered.</summary>
    public bool Known => _known;

    private volatile bool _known;

    /// <summary>The oldest epoch still readable: state older than it may be folded away.</summary>
    public Epoch Horizon => _horizon;

    public TimeSpan History => history;

    private volatile Func<long, CancellationToken, Task<Epoch?>>? _journaled;

    /// <summary>Where epochs older than this node's history are found (the coordinator's journal, <see cref="EpochHistory"/>).</summary>
    public void UseJournal(Func<long, CancellationToken, Task<Epoch?>> find) => _journaled = find;

    /// <summary>Epoch <paramref name="n"/> from the journal, for an epoch older than this node's history; null when the journal no longer holds it.</summary>
    public Task<Epoch?> FindJournaledAsync(long n, CancellationToken cancel) => _journaled?.Invoke(n, cancel) ?? Task.FromResult<Epoch?>(null);

    public void Advance(Epoch epoch)
    {
        List<TaskCompletionSource<Epoch>>? ready = null;
        lock (_gate)
        {
            _known = true;
            if (epoch.N <= _latest.N) return;
            _history.AddLast(epoch);
            _latest = epoch;
            // An epoch stays readable for the history after it stopped being the latest, i.e. after its
            // successor was committed: a read that took the latest epoch a moment ago still finds it.
            var cutoff = epoch.CommittedAt - history;
            while (_history.Count > 1 && (_history.Count > maxEpochs || _history.First!.Next!.Value.CommittedAt < cutoff))
                _history.RemoveFirst();
            _horizon = _history.First!.Value;

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Until(epoch)) continue;
                (ready ??= new()).Add(_waiters[i].Done);
                _waiters.RemoveAt(i);
            }
        }
        ready?.ForEach(t => t.TrySetResult(epoch));
        foreach (var listener in _listeners) listener();
    }

    /// <summary>
    /// Calls <paramref name="listener"/> (on the publishing thread: it must only signal, e.g. tell an actor) after each new
    /// epoch; disposing the result stops it. Partitions use this to turn pending changes into versions.
    /// </summary>
    public IDisposable Subscribe(Action listener)
    {
        lock (_gate) _listeners = [.. _listeners, listener];
        return new Subscription(this, listener);
    }

    private sealed class Subscription(EpochClock clock, Action listener) : IDisposable
    {
        public void Dispose()
        {
            lock (clock._gate) clock._listeners = clock._listeners.Where(l => l != listener).ToArray();
        }
    }

    /// <summary>The epochs this node holds that are newer than <paramref name="n"/>, oldest first.</summary>
    public IReadOnlyList<Epoch> After(long n)
    {
        lock (_gate)
        {
            if (_latest.N <= n) return [];
            var newer = new List<Epoch>();
            for (var node = _history.Last; node is not null && node.Value.N > n; node = node.Previous) newer.Add(node.Value);
            newer.Reverse();
            return newer;
        }
    }

    /// <summary>The epoch numbered <paramref name="n"/>, if this node still holds it in its history.</summary>
    public Epoch? Find(long n)
    {
        lock (_gate)
        {
            if (n < _history.First!.Value.N || n > _latest.N) return null;
            for (var node = _history.Last; node is not null; node = node.Previous)
                if (node.Value.N == n) return node.Value;
            return null;
        }
    }

    /// <summary>The first epoch satisfying <paramref name="until"/>: now if the latest does, else when one is published.</summary>
    public Task<Epoch> WaitAsync(Func<Epoch, bool> until, TimeSpan timeout, CancellationToken cancel)
    {
        TaskCompletionSource<Epoch> done;
        lock (_gate)
        {
            if (until(_latest)) return Task.FromResult(_latest);
            done = new TaskCompletionSource<Epoch>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((until, done));
        }
        return done.Task.WaitAsync(timeout, cancel);
    }
}
