// One entity's event-sourced actor under cluster sharding: journals accepted events (PersistAll),
// drops redelivered (stream, offset) pairs, snapshots every N events; sharding passivates it when idle.
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Entities;

public sealed class EntityActor : ReceivePersistentActor
{
    private readonly EntityKey _key;
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private EntityState _state = new();
    private long _sinceSnapshot;

    public EntityActor(string entityId, int snapshotEvery)
    {
        _key = EntityKey.Parse(entityId);
        _snapshotEvery = snapshotEvery;
        PersistenceId = PersistenceIdFor(_key);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is EntitySnapshot s) _state = EntityState.FromSnapshot(s);
        });
        Recover<IngestEvent>(e =>
        {
            _state.Apply(e);
            _sinceSnapshot++;
        });

        Command<ApplyEvents>(HandleApply);
        Command<GetEntity>(_ => Sender.Tell(Read()));
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
        // Filter against the journaled state and within the batch itself.
        var fresh = new List<IngestEvent>(cmd.Events.Count);
        var batchHigh = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in cmd.Events)
        {
            if (_state.HasApplied(e.Stream, e.Offset)) continue;
            if (batchHigh.TryGetValue(e.Stream, out var high) && e.Offset <= high) continue;
            batchHigh[e.Stream] = e.Offset;
            fresh.Add(e);
        }

        var duplicates = cmd.Events.Count - fresh.Count;
        if (fresh.Count == 0)
        {
            Sender.Tell(new EventsApplied(_key, 0, duplicates));
            return;
        }

        var replyTo = Sender;
        PersistAll(fresh, e =>
        {
            _state.Apply(e);
            _sinceSnapshot++;
        });
        DeferAsync(fresh.Count, persisted =>
        {
            replyTo.Tell(new EventsApplied(_key, persisted, duplicates));
            if (_sinceSnapshot >= _snapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(_state.ToSnapshot());
            }
        });
    }

    private EntityReadResult Read() => new(
        _key,
        _state.Exists,
        _state.Fields.ToDictionary(f => f.Key, f => f.Value.Value, StringComparer.Ordinal),
        _state.EventCount,
        _state.LastEvent,
        _state.StreamOffsets);
}
