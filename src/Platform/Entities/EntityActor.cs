// One entity's event-sourced actor under cluster sharding. It journals accepted events (PersistAll,
// one row per event), drops redelivered (stream, offset) pairs, and keeps MVCC state: a base folded up
// to the history horizon plus the pending events after it, so a read at any epoch inside the horizon
// folds exactly the events that epoch commits. Sharding passivates it when idle.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Entities;

public sealed class EntityActor : ReceivePersistentActor
{
    private readonly EntityKey _key;
    private readonly int _snapshotEvery;
    private readonly EpochClock _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private EntityState _base = new();
    private EntityState _current = new();
    private readonly List<PendingEvent> _pending = new();
    private readonly Dictionary<(string, long), RowChange?> _changes = new();
    private long _sinceSnapshot;
    private Epoch _folded = Epoch.Zero;

    public EntityActor(string entityId, int snapshotEvery, EpochClock clock)
    {
        _key = EntityKey.Parse(entityId);
        _snapshotEvery = snapshotEvery;
        _clock = clock;
        PersistenceId = PersistenceIdFor(_key);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not EntityMvccSnapshot s) return;
            _base = EntityState.FromSnapshot(s.Base);
            _current = _base.Clone();
            foreach (var p in s.Pending)
            {
                _current.Apply(p.Event);
                AddPending(p);
            }
        });
        Recover<IngestEvent>(e =>
        {
            ApplyNew(e);
            _sinceSnapshot++;
        });
        Recover<RecoveryCompleted>(_ => Fold());

        Command<ApplyEvents>(HandleApply);
        Command<GetEntity>(g =>
        {
            Fold();
            if (g.Vector is not null && !Dominates(g.Vector, _folded.Vector))
                Sender.Tell(new ReadTooOld(_folded.N));
            else
                Sender.Tell(Read(g.Vector));
        });
        Command<SaveSnapshotSuccess>(ok =>
            DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old snapshots of {0} failed", PersistenceId));
    }

    public override string PersistenceId { get; }

    public static string PersistenceIdFor(EntityKey key) => $"entity-{key.Type}/{key.Id}";

    private void HandleApply(ApplyEvents cmd)
    {
        Fold();
        var fresh = new List<IngestEvent>(cmd.Events.Count);
        var batchHigh = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in cmd.Events)
        {
            if (_current.HasApplied(e.Stream, e.Offset)) continue;
            if (batchHigh.TryGetValue(e.Stream, out var high) && e.Offset <= high) continue;
            batchHigh[e.Stream] = e.Offset;
            fresh.Add(e);
        }

        var duplicates = cmd.Events.Count - fresh.Count;
        var replyTo = Sender;
        if (fresh.Count == 0)
        {
            replyTo.Tell(new EventsApplied(_key, 0, duplicates, ChangesOf(cmd.Events)));
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAll(fresh, e =>
        {
            ApplyNew(e);
            _sinceSnapshot++;
        });
        DeferAsync(fresh.Count, persisted =>
        {
            Telemetry.Metrics.JournalWriteSeconds.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            Telemetry.Metrics.JournalBatchEvents.Observe(persisted);
            replyTo.Tell(new EventsApplied(_key, persisted, duplicates, ChangesOf(cmd.Events)));
            if (_sinceSnapshot >= _snapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(new EntityMvccSnapshot(_base.ToSnapshot(), _pending.ToList()));
            }
        });
    }

    private void ApplyNew(IngestEvent e)
    {
        AddPending(new PendingEvent(e, RowChanges.Apply(_current, e)));
    }

    private void AddPending(PendingEvent p)
    {
        _pending.Add(p);
        _changes[(p.Event.Stream, p.Event.Offset)] = p.Change;
    }

    private List<RowChange> ChangesOf(IReadOnlyList<IngestEvent> events)
    {
        var changes = new List<RowChange>(events.Count);
        foreach (var e in events)
            if (_changes.TryGetValue((e.Stream, e.Offset), out var c) && c is not null && !changes.Contains(c))
                changes.Add(c);
        return changes;
    }

    /// <summary>Moves pending events that the history horizon commits into the base state.</summary>
    private void Fold()
    {
        var horizon = _clock.Horizon;
        if (_pending.Count == 0 || horizon.N == 0) return;
        var kept = 0;
        for (var i = 0; i < _pending.Count; i++)
        {
            var p = _pending[i];
            if (horizon.Covers(p.Event.Stream, p.Event.Offset))
            {
                _base.Apply(p.Event);
                _changes.Remove((p.Event.Stream, p.Event.Offset));
                _folded = horizon;
            }
            else
            {
                _pending[kept++] = p;
            }
        }
        _pending.RemoveRange(kept, _pending.Count - kept);
    }

    private EntityReadResult Read(IReadOnlyDictionary<string, long>? vector)
    {
        var state = _current;
        if (vector is not null && _pending.Any(p => !Covers(vector, p.Event)))
        {
            state = _base.Clone();
            foreach (var p in _pending)
                if (Covers(vector, p.Event)) state.Apply(p.Event);
        }

        return new EntityReadResult(
            _key,
            state.Exists,
            state.Fields.ToDictionary(f => f.Key, f => f.Value.Value, StringComparer.Ordinal),
            state.EventCount,
            state.LastEvent,
            new Dictionary<string, long>(state.StreamOffsets));
    }

    private static bool Dominates(IReadOnlyDictionary<string, long> vector, IReadOnlyDictionary<string, long> floor) =>
        floor.All(kv => vector.TryGetValue(kv.Key, out var o) && o >= kv.Value);

    private static bool Covers(IReadOnlyDictionary<string, long> vector, IngestEvent e) =>
        vector.TryGetValue(e.Stream, out var o) && e.Offset <= o;
}
