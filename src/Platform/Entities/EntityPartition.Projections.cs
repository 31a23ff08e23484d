// An entity partition's projections: the views it derives changes for. The set is part of the partition's
// journal (a row records each projection joining or leaving, with its definition), so a replay derives
// exactly what was derived live, whatever the catalog says by then. A projection that joins is live from
// its row on; the events journaled before that row reach it through a backfill, which replays this
// partition's own earlier rows and delivers their changes on a chain of its own ("backfill:{view}").
using Akka.Actor;
using Akka.Event;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

public sealed partial class EntityPartition
{
    private sealed record LiveProjection(ProjectionState State, IProjection Compiled);

    private sealed record BackfillDelivered(string Id, long Events);

    private sealed record BackfillFailed(string Id, Exception Cause);

    private sealed record RestartBackfill(string Id);

    private readonly Dictionary<string, LiveProjection> _live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<LiveProjection>> _bySource = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProjectionSpec> _intended = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CancellationTokenSource> _backfills = new(StringComparer.Ordinal);
    private readonly List<ProjectionBackfilled> _backfilledPending = new();
    private long _catalogVersion = -1;
    private long _intendedVersion = -1;
    private ProjectionChange? _pendingChange;

    /// <summary>
    /// Compares this node's catalog with the projections this partition has (and has on its way into the journal);
    /// when the catalog is newer and differs, the difference goes into the next row.
    /// </summary>
    private void SyncProjections()
    {
        if (!IsRecoveryFinished) return;
        var version = _projections.CatalogVersion;
        if (version <= _intendedVersion) return;
        _intendedVersion = version;
        var current = _projections.Current;
        var added = current.Where(s => !_intended.ContainsKey(s.Id)).ToList();
        var removed = _intended.Keys.Where(id => current.All(s => s.Id != id)).ToList();
        if (added.Count == 0 && removed.Count == 0) return;
        foreach (var id in removed) _intended.Remove(id);
        foreach (var spec in added) _intended[spec.Id] = spec;

        if (_pendingChange is { } pending)
        {
            added = pending.Added.Where(a => !removed.Contains(a.Id)).Concat(added).ToList();
            removed = pending.Removed.Concat(removed.Where(r => pending.Added.All(a => a.Id != r))).ToList();
        }
        _pendingChange = new ProjectionChange(version, added, removed);
    }

    private ProjectionChange? TakeProjectionChange()
    {
        var change = _pendingChange;
        _pendingChange = null;
        return change;
    }

    private IReadOnlyList<ProjectionBackfilled>? TakeBackfilled()
    {
        if (_backfilledPending.Count == 0) return null;
        var done = _backfilledPending.ToList();
        _backfilledPending.Clear();
        return done;
    }

    private void ApplyProjectionChange(ProjectionChange change, long sequenceNr, bool live)
    {
        foreach (var id in change.Removed)
        {
            _live.Remove(id);
            if (_backfills.Remove(id, out var running)) running.Cancel();
        }
        foreach (var spec in change.Added)
        {
            try
            {
                _live[spec.Id] = new LiveProjection(new ProjectionState(spec, sequenceNr, Backfilled: false), _projections.Compile(spec));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
            {
                Log.Error(ex, "{0}: projection {1} cannot be compiled and is left out: {2}", PersistenceId, spec.Id, spec.Definition);
            }
        }
        _catalogVersion = Math.Max(_catalogVersion, change.CatalogVersion);
        IndexProjections();
        if (live)
            foreach (var spec in change.Added) StartBackfill(spec.Id);
    }

    private void MarkBackfilled(ProjectionBackfilled done, bool live)
    {
        if (!_live.TryGetValue(done.Id, out var p)) return;
        _live[done.Id] = p with { State = p.State with { Backfilled = true } };
        IndexProjections();
        if (live) _projections.Backfilled(p.State.Spec, Partition, done.Events);
    }

    /// <summary>Tells the catalog again about every backfill this partition has finished (the catalog may have restarted).</summary>
    private void ReportBackfilled()
    {
        foreach (var p in _live.Values.Where(p => p.State.Backfilled)) _projections.Backfilled(p.State.Spec, Partition, 0);
    }

    private void IndexProjections()
    {
        _bySource.Clear();
        foreach (var p in _live.Values)
        {
            if (!_bySource.TryGetValue(p.State.Spec.Source, out var list)) _bySource[p.State.Spec.Source] = list = new List<LiveProjection>();
            list.Add(p);
        }
        foreach (var list in _bySource.Values) list.Sort((a, b) => string.CompareOrdinal(a.State.Spec.Id, b.State.Spec.Id));
    }

    private List<ProjectionState> Projections() => _live.Values.Select(p => p.State).ToList();

    private void RestoreProjections(IReadOnlyList<ProjectionState> projections, long catalogVersion)
    {
        _live.Clear();
        foreach (var state in projections)
        {
            try
            {
                _live[state.Spec.Id] = new LiveProjection(state, _projections.Compile(state.Spec));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
            {
                Log.Error(ex, "{0}: projection {1} cannot be compiled and is left out", PersistenceId, state.Spec.Id);
            }
        }
        _catalogVersion = catalogVersion;
        IndexProjections();
    }

    protected override void Recovered()
    {
        _intended.Clear();
        foreach (var p in _live.Values) _intended[p.State.Spec.Id] = p.State.Spec;
        _intendedVersion = _catalogVersion;
        foreach (var p in _live.Values.Where(p => !p.State.Backfilled).ToList()) StartBackfill(p.State.Spec.Id);
        SyncProjections();
        WorkArrived();
    }

    private void StartBackfill(string id)
    {
        if (!_live.TryGetValue(id, out var p) || p.State.Backfilled || _backfills.ContainsKey(id)) return;
        var cancel = new CancellationTokenSource();
        _backfills[id] = cancel;
        var backfill = new EntityBackfill(Context.System, PersistenceId, Partition, p.State, p.Compiled, _projections, Options);
        Task.Run(() => backfill.RunAsync(cancel.Token), cancel.Token).PipeTo(Self,
            success: events => new BackfillDelivered(id, events),
            failure: ex => new BackfillFailed(id, ex));
    }

    private void Delivered(BackfillDelivered delivered)
    {
        _backfills.Remove(delivered.Id);
        if (!_live.ContainsKey(delivered.Id)) return;
        _backfilledPending.Add(new ProjectionBackfilled(delivered.Id, delivered.Events));
        WorkArrived();
    }
}
