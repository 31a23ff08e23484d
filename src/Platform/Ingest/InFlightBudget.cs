// How much accepted-but-not-applied work a node holds. Every stream's runs share one budget of events: a run
// takes its events' worth when it is admitted and gives it back once it is applied everywhere. Without it,
// forty Kafka partitions with a backlog each keep sixteen runs in flight and the whole backlog queues in the
// partitions' mailboxes, where every run waits behind all the others (seconds from submit to applied) and the
// node's memory holds it all. With it the queue in front of the partitions stays about one budget deep, and a
// source past it waits (Kafka and CDC pause in their own logs). Waiters are admitted in arrival order; a run
// larger than the whole budget is admitted alone, so nothing can wait for ever.
namespace ContextLake.Platform.Ingest;

public sealed class InFlightBudget(long capacity)
{
    private sealed class Waiter(long amount)
    {
        public long Amount { get; } = amount;
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
    }

    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private long _used;

    public long Capacity { get; } = capacity;

    /// <summary>Events admitted and not yet given back.</summary>
    public long Used
    {
        get
        {
            lock (_gate) return _used;
        }
    }

    /// <summary>Completes once <paramref name="amount"/> fits (after everyone who waited before).</summary>
    public Task TakeAsync(long amount, CancellationToken cancel = default)
    {
        lock (_gate)
        {
            if (_waiting.Count == 0 && Fits(amount))
            {
                _used += amount;
                Telemetry.Metrics.EventsInFlight.Set(_used);
                return Task.CompletedTask;
            }
            var waiter = new Waiter(amount);
            var node = _waiting.AddLast(waiter);
            if (cancel.CanBeCanceled) waiter.Registration = cancel.Register(() => Abandon(node, cancel));
            return waiter.Ready.Task;
        }
    }

    public void Give(long amount)
    {
        List<Waiter>? admitted = null;
        lock (_gate)
        {
            _used -= amount;
            while (_waiting.First is { } first && Fits(first.Value.Amount))
            {
                _waiting.RemoveFirst();
                _used += first.Value.Amount;
                (admitted ??= new List<Waiter>()).Add(first.Value);
            }
            Telemetry.Metrics.EventsInFlight.Set(_used);
        }
        foreach (var w in admitted ?? [])
        {
            w.Registration.Dispose();
            w.Ready.TrySetResult();
        }
    }

    private bool Fits(long amount) => _used == 0 || _used + amount <= Capacity;

    private void Abandon(LinkedListNode<Waiter> node, CancellationToken cancel)
    {
        lock (_gate)
        {
            if (node.List is null) return; // admitted meanwhile: the caller gives it back
            _waiting.Remove(node);
        }
        node.Value.Ready.TrySetCanceled(cancel);
        // The waiter behind it may fit now.
        Give(0);
    }
}
