// One entity partition: a key group of entities in one sharded persistent actor. It takes each stream's run
// parts in order (a chain per stream, deduplicated exactly by the stream's high-water mark), journals them
// group-committed as one row, applies them to its entities in memory (versions per epoch, see
// VersionedStore), derives the row changes' deltas through the projections it journals, and sends them
// straight to the view and vector partitions as chained batches. It keeps the batches of parts not yet
// committed (its outbox) to send them again when a tracker asks twice; after a restart the rows replayed after its
// snapshot (which holds committed entities only) derive them again.
using Akka.Actor;
using Akka.Event;
using Akka.Serialization;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

public sealed partial class EntityPartition : PartitionActor
{
    /// <summary>Most keys named in one RunPartApplied; more go in further messages.</summary>
    private const int KeysPerReply = 2000;

    private sealed record Buffered(ApplyRunPart Part, List<IngestEvent> Fresh);

    /// <summary>The derived batches of one journaled part, which spoke for the stream's offsets in (From, Through].</summary>
    private sealed class OutboxEntry(string stream, long from, long through, long maxOffset, List<(DownstreamTarget Target, IDownstreamBatch Batch)> batches, List<string> keys)
    {
        public string Stream { get; } = stream;
        public long From { get; } = from;
        public long Through { get; } = through;
        public long MaxOffset { get; } = maxOffset;
        public List<(DownstreamTarget Target, IDownstreamBatch Batch)> Batches { get; } = batches;
        public List<string> Keys { get; } = keys;
    }

    private readonly IProjections _projections;
    private readonly VersionedStore<EntityValue, IngestEvent> _store = new(EntityValue.ApplyAll, keepsCurrent: true);
    private readonly Dictionary<string, long> _accepted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _journaled = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Channel, DownstreamTarget Target), long> _sent = new();
    private readonly Dictionary<string, List<OutboxEntry>> _outbox = new(StringComparer.Ordinal);
    private readonly List<Buffered> _buffer = new();
    private List<Buffered> _writing = new();
    private readonly List<ApplyRunPart> _waitingDuplicates = new();
    private readonly OpenRows<string> _open = new();

    /// <summary>The last row that changed the projections: a snapshot is never taken as of a row before it.</summary>
    private long _projectionsChangedAt;

    /// <summary>The vector the restored snapshot's entities hold: replayed events it covers are already in them.</summary>
    private IReadOnlyDictionary<string, long>? _restoredVector;

    /// <summary>The vector of the newest epoch committed here.</summary>
    private IReadOnlyDictionary<string, long> _committedVector = new Dictionary<string, long>();

    public EntityPartition(string partitionId, EpochClock clock, StateOptions options, IProjections projections, LocalPartitions local,
        PartitionRole role = PartitionRole.Owner)
        : base(EntityRegion.TypeName, partitionId, clock, options, local, role)
    {
        _projections = projections;

        Row<EntityRunRow>(row => ApplyRow(row, null), row => row.Events.Count);

        Command<ApplyRunPart>(Take);
        Command<ReadEntities>(Read);
        Command<CatalogChanged>(_ =>
        {
            SyncProjections();
            ReportBackfilled();
            WorkArrived();
        });
        Command<BackfillDelivered>(Delivered);
        Command<BackfillFailed>(f =>
        {
            _backfills.Remove(f.Id);
            if (f.Cause is OperationCanceledException) return;
            Log.Warning(f.Cause, "{0}: backfill of {1} failed; it starts again in {2}", PersistenceId, f.Id, Options.RetryAfter);
            Timers.StartSingleTimer("backfill-" + f.Id, new RestartBackfill(f.Id), Options.RetryAfter);
        });
        Command<RestartBackfill>(r => StartBackfill(r.Id));
    }

    protected override long CommittedThrough => _store.CommittedThrough;

    protected override int KeyCount => _store.Count;

    protected override object Published => _store;

    protected override void PostStop()
    {
        foreach (var b in _backfills.Values) b.Cancel();
        base.PostStop();
    }

    private void Take(ApplyRunPart part)
    {
        SyncProjections();
        var have = _accepted.GetValueOrDefault(part.Stream);
        switch (Chains.Judge(part, have, Clock.Latest[part.Stream]))
        {
            case ChainVerdict.Duplicate:
                if (part.Through <= _journaled.GetValueOrDefault(part.Stream)) AnswerDuplicate(part);
                else _waitingDuplicates.Add(part);
                return;
            case ChainVerdict.Gap:
                // An earlier part of the stream never arrived; the tracker sends the chain again in order.
                Log.Debug("{0}: {1} part after {2} refused: this partition has it only up to {3}", PersistenceId, part.Stream, part.Prev, have);
                return;
        }
        var fresh = new List<IngestEvent>(part.Events.Count);
        foreach (var e in part.Events)
            if (e.Offset > have && e.Offset <= part.Through) fresh.Add(e);
        _accepted[part.Stream] = part.Through;
        _buffer.Add(new Buffered(part, fresh));
        WorkArrived();
        // A part that starts below what this partition has (a source that started again, cutting runs elsewhere) also
        // speaks for earlier parts: their changes go out again and the tracker waits for them too (see Reply).
    }

    protected override (object Row, int Changes)? TakeRow()
    {
        var change = TakeProjectionChange();
        var backfilled = TakeBackfilled();
        if (_buffer.Count == 0 && change is null && backfilled is null) return null;
        _writing = new List<Buffered>(_buffer);
        _buffer.Clear();
        var events = new List<IngestEvent>(_writing.Sum(b => b.Fresh.Count));
        var parts = new List<RunPartMark>(_writing.Count);
        foreach (var b in _writing)
        {
            events.AddRange(b.Fresh);
            parts.Add(new RunPartMark(b.Part.Stream, b.Part.Through, b.Fresh.Count));
        }
        return (new EntityRunRow(events, parts, change, backfilled), events.Count);
    }

    protected override void Journaled(object row)
    {
        var live = _writing;
        _writing = new List<Buffered>();
        ApplyRow((EntityRunRow)row, live);
        AnswerJournaled(_waitingDuplicates, p => p.Through <= _journaled.GetValueOrDefault(p.Stream), AnswerDuplicate);
    }

    /// <summary>Applies a journaled row: live (with the parts that asked for it) or in recovery (null).</summary>
    private void ApplyRow(EntityRunRow row, List<Buffered>? live)
    {
        if (row.Projections is not null || row.Backfilled is not null) _projectionsChangedAt = RowNr;
        if (row.Projections is { } change) ApplyProjectionChange(change, RowNr, live is not null);
        foreach (var b in row.Backfilled ?? []) MarkBackfilled(b, live is not null);
        var open = _open.Begin(RowNr);
        // A standby derives nothing: the owner that takes its state over derives the open rows' changes again.
        var derives = !IsStandby;
        var at = 0;
        for (var i = 0; i < row.Parts.Count; i++)
        {
            var mark = row.Parts[i];
            var from = _journaled.GetValueOrDefault(mark.Stream);
            open.Moved(mark.Stream, from);
            var sink = new ProjectionSink(mark.Count);
            var maxOffset = 0L;
            for (var j = at; j < at + mark.Count; j++)
            {
                var e = row.Events[j];
                // Replaying after a snapshot: what its vector covers is already in its entities (and downstream).
                if (live is null && _restoredVector is { } covered && e.Offset <= covered.GetValueOrDefault(e.Stream)) continue;
                open.Left(e.Stream, e.Offset);
                var key = _store.Open(e.Address);
                var after = RowChanges.Apply(key.Current, e, out var rowChange);
                _store.Put(key, after, e);
                maxOffset = Math.Max(maxOffset, e.Offset);
                if (rowChange is null || !derives || !_bySource.TryGetValue(e.EntityType, out var projections)) continue;
                foreach (var p in projections) p.Compiled.Project(rowChange, sink);
            }
            at += mark.Count;
            if (mark.Through > _journaled.GetValueOrDefault(mark.Stream)) _journaled[mark.Stream] = mark.Through;
            if (live is null && mark.Through > _accepted.GetValueOrDefault(mark.Stream)) _accepted[mark.Stream] = mark.Through;

            var entry = Outbox(mark.Stream, from, mark.Through, maxOffset, sink);
            if (live is null) continue;
            var part = live[i].Part;
            var entries = part.Prev < from ? Overlapping(part) : entry is null ? [] : [entry];
            foreach (var e in entries) Send(e, part.Tracker);
            Reply(part, entries, mark.Count, part.Events.Count - mark.Count);
        }
        _open.End();
    }

    /// <summary>Cuts a part's derived changes into chained batches per target (between events, below the message size).</summary>
    private OutboxEntry? Outbox(string stream, long from, long through, long maxOffset, ProjectionSink sink)
    {
        if (sink.IsEmpty) return null;
        var batches = new List<(DownstreamTarget, IDownstreamBatch)>();
        foreach (var (target, changes) in sink.ByTarget.OrderBy(t => t.Key.Region, StringComparer.Ordinal).ThenBy(t => t.Key.Partition, StringComparer.Ordinal))
        {
            var start = 0;
            while (start < changes.Count)
            {
                var end = start;
                var bytes = 0;
                while (end < changes.Count)
                {
                    // Never between two changes of one event: a chain's positions are event offsets.
                    var offset = changes[end].Offset;
                    var next = end;
                    var eventBytes = 0;
                    while (next < changes.Count && changes[next].Offset == offset) eventBytes += changes[next++].EstimatedBytes;
                    if (end > start && bytes + eventBytes > Options.MessageBytes) break;
                    bytes += eventBytes;
                    end = next;
                }
                var chunk = changes.GetRange(start, end - start);
                var prev = _sent.GetValueOrDefault((stream, target));
                var last = chunk[^1].Offset;
                batches.Add((target, _projections.Batch(target, stream, Partition, prev, last, chunk)));
                _sent[(stream, target)] = last;
                start = end;
            }
        }
        var entry = new OutboxEntry(stream, from, through, maxOffset, batches, sink.Keys.ToList());
        if (!_outbox.TryGetValue(stream, out var entries)) _outbox[stream] = entries = new List<OutboxEntry>();
        entries.Add(entry);
        return entry;
    }

    private void Send(OutboxEntry entry, IActorRef tracker)
    {
        foreach (var (target, batch) in entry.Batches) _projections.Region(target.Region).Tell(batch.WithReplyTo(tracker));
    }

    /// <summary>Tells the tracker the part is journaled, what its changes wait for, and which view keys they change.</summary>
    private void Reply(ApplyRunPart part, IReadOnlyList<OutboxEntry> entries, int persisted, int duplicates)
    {
        var targets = new Dictionary<DownstreamTarget, long>();
        foreach (var entry in entries)
            foreach (var (target, batch) in entry.Batches) targets[target] = Math.Max(targets.GetValueOrDefault(target), batch.Through);
        var marks = targets.Select(t => new DownstreamMark(t.Key.Region, t.Key.Partition, t.Value)).ToList();
        var keyList = entries.Count == 1 ? entries[0].Keys : entries.SelectMany(e => e.Keys).Distinct(StringComparer.Ordinal).ToList();
        for (var start = 0; ; start += KeysPerReply)
        {
            var last = start + KeysPerReply >= keyList.Count;
            part.Tracker.Tell(new RunPartApplied(part.Stream, Partition, part.Tag, persisted, duplicates,
                last ? marks : [], keyList.GetRange(start, Math.Min(KeysPerReply, keyList.Count - start)), last));
            if (last) break;
        }
    }

    /// <summary>A part this partition has journaled already: its changes go out again (they may have been lost) and the tracker hears so.</summary>
    private void AnswerDuplicate(ApplyRunPart part)
    {
        var entries = Overlapping(part);
        foreach (var entry in entries) Send(entry, part.Tracker);
        Reply(part, entries, 0, part.Events.Count);
    }

    /// <summary>
    /// The batches not yet committed that derive from any offset <paramref name="part"/> speaks for, (Prev, Through]: the run
    /// it belongs to is applied only once they are journaled downstream, whichever earlier run first sent them.
    /// </summary>
    private List<OutboxEntry> Overlapping(ApplyRunPart part) =>
        _outbox.TryGetValue(part.Stream, out var all) ? all.Where(e => e.From < part.Through && e.Through > part.Prev).ToList() : [];

    protected override void Committed(Epoch latest)
    {
        // Batches whose every event is committed are journaled downstream: nobody will ask for them again.
        foreach (var (stream, entries) in _outbox)
            entries.RemoveAll(e => e.MaxOffset <= latest[stream]);
    }

    protected override void Commit(IReadOnlyList<Epoch> epochs, long horizonN)
    {
        _store.Commit(epochs, horizonN);
        if (epochs.Count == 0) return;
        _committedVector = epochs[^1].Vector;
        _open.Commit(epochs[^1]);
    }

    /// <summary>The row before the oldest still open, unless the projections changed after it (the snapshot holds today's).</summary>
    protected override long SnapshotRow => _open.SnapshotRow(RowNr) is var row && row >= _projectionsChangedAt ? row : -1;


    protected override void Compact(long horizonN)
    {
        _store.Compact(horizonN);
        if (IsStandby) return;
        SyncProjections();
        WorkArrived();
    }

    private void Read(ReadEntities read)
    {
        if (!ReadyFor(read.N, read)) return;
        var results = new List<EntityReadResult>(read.Keys.Count);
        foreach (var key in read.Keys)
        {
            if (_store.TryRead(key.ToString(), read.N, out var value) == ReadOutcome.TooOld)
            {
                Sender.Tell(new ReadTooOld(_store.ReadableFrom));
                return;
            }
            results.Add(EntityReadResult.Of(key, value));
        }
        Sender.Tell(new EntityReads(results));
    }

    /// <summary>Committed entities only, as of the snapshot row: the rows after it hold every event not yet committed.</summary>
    protected override object CaptureSnapshot() =>
        new EntityPartitionSnapshot(_store.CommittedThrough, new Dictionary<string, long>(_committedVector), EntityKeys.Write(_store),
            _open.ChainsAtSnapshotRow(_journaled), Projections(), _catalogVersion);

    protected override void RestoreSnapshot(object snapshot)
    {
        _journaled.Clear();
        _accepted.Clear();
        _open.Clear();
        switch (snapshot)
        {
            case EntityPartitionSnapshot s:
                _store.Clear(s.CommittedThrough);
                EntityKeys.Read(s.Keys, _store);
                foreach (var (stream, through) in s.Streams) _journaled[stream] = _accepted[stream] = through;
                _restoredVector = _committedVector = s.Committed;
                RestoreProjections(s.Projections, s.CatalogVersion);
                break;
            case EntityPartitionSnapshotV1 v1:
                RestoreFirstFormat(v1);
                break;
        }
    }

    /// <summary>A snapshot of the first format: taken as of its last row, with pending events and the batches to send again.</summary>
    private void RestoreFirstFormat(EntityPartitionSnapshotV1 v1)
    {
        _store.Clear(v1.CommittedThrough);
        foreach (var k in v1.Keys) _store.Restore(k.Key, k.Value, k.Pending?.ToArray() ?? []);
        foreach (var (stream, through) in v1.Streams) _journaled[stream] = _accepted[stream] = through;
        foreach (var m in v1.Sent) _sent[(m.Channel, new DownstreamTarget(m.Region, m.Partition))] = m.Through;
        RestoreProjections(v1.Projections, v1.CatalogVersion);
        var serialization = Context.System.Serialization;
        foreach (var part in v1.Outbox)
        {
            var batches = part.Batches.Select(b =>
            {
                var batch = (IDownstreamBatch)serialization.Deserialize(b.Bytes, b.SerializerId, b.Manifest);
                return (new DownstreamTarget(b.Region, b.Partition), batch);
            }).ToList();
            if (!_outbox.TryGetValue(part.Stream, out var entries)) _outbox[part.Stream] = entries = new List<OutboxEntry>();
            entries.Add(new OutboxEntry(part.Stream, part.From, part.Through, part.MaxOffset, batches, part.Keys.ToList()));
        }
    }

    /// <summary>The change to every projection of one row change, grouped per downstream partition.</summary>
    private sealed class ProjectionSink(int events) : IProjectionSink
    {
        public Dictionary<DownstreamTarget, List<IDownstreamChange>> ByTarget { get; } = new();

        public HashSet<string> Keys { get; } = new(Math.Min(2 * events, 4096), StringComparer.Ordinal);

        public bool IsEmpty => ByTarget.Count == 0 && Keys.Count == 0;

        public void Add(DownstreamTarget target, IDownstreamChange change)
        {
            // A part's changes spread over every downstream partition: a share of them each, grown as needed.
            if (!ByTarget.TryGetValue(target, out var list)) ByTarget[target] = list = new List<IDownstreamChange>(Math.Clamp(events / 4, 4, 1024));
            list.Add(change);
        }

        public void Changed(string key) => Keys.Add(key);
    }
}

/// <summary>Asks an entity partition to look at the catalog now (a view was created or dropped).</summary>
public sealed record CatalogChanged(string Partition) : IPartitionMessage, Serialization.IPlatformMessage;
