// Versions per epoch: the one multi-version store that entity partitions, view partitions and vector
// partitions share. Each key keeps a short list of committed values, one per epoch in which it changed
// (within the history horizon), and the pending changes after them, which no reader sees. When epochs
// arrive, the owner turns the pending changes each epoch covers into one new version per changed key,
// tagged with that epoch; a read at epoch n takes the newest version at or before n, which at the latest
// epoch is the last one: O(1) whatever the write rate. Pending changes are indexed per stream by offset, so
// an epoch costs the changes it commits, not the keys still pending behind it (a partition under a backlog
// holds tens of thousands, and epochs arrive every few milliseconds). One writer (the partition actor), any
// number of readers on other threads: versions are immutable arrays swapped whole, values are immutable.
using System.Collections.Concurrent;
using ContextLake.Platform.Epochs;

namespace ContextLake.Platform.State;

/// <summary>What one event (Stream, Offset) did to a key: the unit an epoch commits.</summary>
public interface IStreamChange
{
    string Stream { get; }
    long Offset { get; }
}

public enum ReadOutcome
{
    /// <summary>The key had a value at the epoch.</summary>
    Found,

    /// <summary>The key had no value at the epoch (never written, or not yet).</summary>
    Absent,

    /// <summary>The epoch is older than what the store still holds (folded past, or before a restart).</summary>
    TooOld,
}

/// <summary>A key's committed value and pending changes, as a snapshot holds them.</summary>
public sealed record StoredKey<TValue, TChange>(string Key, TValue? Value, IReadOnlyList<TChange>? Pending);

/// <param name="fold">
/// Applies a change to a key's value (null: the key has none), returning the new value without changing the
/// old one; null means the key has no value after it.
/// </param>
/// <param name="keepsCurrent">
/// Whether the owner keeps each key's current value (all changes applied, pending included) with
/// <see cref="Put"/>; entity partitions do, because an event's row change depends on it.
/// </param>
public sealed class VersionedStore<TValue, TChange>(Func<string, TValue?, TChange, TValue?> fold, bool keepsCurrent)
    where TValue : class
    where TChange : IStreamChange
{
    /// <summary>
    /// One committed value, newest first: a reader at the latest epoch reads the head, an older read walks back. A list is
    /// cut below the horizon by marking its last kept version <see cref="Truncated"/> before dropping what is older, so a
    /// reader that walks off the end knows whether the key did not exist yet or its history was folded.
    /// </summary>
    private sealed class Version(long n, TValue? value, Version? older)
    {
        public long N { get; } = n;
        public TValue? Value { get; } = value;
        public volatile Version? Older = older;
        public volatile bool Truncated;

        /// <summary>The next newer version (the owner's, for folding from the oldest end without walking the list).</summary>
        public Version? Newer;
    }

    /// <summary>A pending change with its stream and offset read once (the commit reads them without an interface call).</summary>
    private readonly record struct Pending(TChange Change, string Stream, long Offset);

    private sealed class Slot(string key)
    {
        public string Key { get; } = key;
        public volatile Version? Head;
        public Version? Oldest;
        public TValue? Current;
        public List<Pending>? Pending;

        /// <summary>Taken for the commit under way (it has a change the newest epoch covers).</summary>
        public bool Touched;

        /// <summary>Removed from the store: its pending changes left in the index are skipped.</summary>
        public bool Gone;

        public void Push(long n, TValue? value)
        {
            var version = new Version(n, value, Head);
            if (Head is { } previous) previous.Newer = version;
            else Oldest = version;
            Head = version;
        }
    }

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    /// <summary>Every pending change's key, per stream, by offset: an epoch takes the prefix of each it covers.</summary>
    private readonly Dictionary<string, PriorityQueue<Slot, long>> _pending = new(StringComparer.Ordinal);
    private readonly List<Slot> _touched = new();
    private int _pendingKeys;
    private readonly HashSet<Slot> _multi = new(ReferenceEqualityComparer.Instance);
    private readonly List<Slot> _folded = new();
    /// <summary>A key's emptied pending list is kept when it grew beyond this (a hot key), let go otherwise.</summary>
    private const int SmallPending = 8;

    private readonly List<int> _assigned = new();
    private readonly List<long> _order = new();
    private readonly Dictionary<string, long[]> _through = new(StringComparer.Ordinal);
    private long _committedThrough;
    private long _readableFrom;

    /// <summary>The newest epoch whose changes are all turned into versions: reads at or below it are answered here.</summary>
    public long CommittedThrough => Volatile.Read(ref _committedThrough);

    /// <summary>The oldest epoch this store can answer (after a restart, or once older versions are folded).</summary>
    public long ReadableFrom => Volatile.Read(ref _readableFrom);

    public int Count => _slots.Count;

    /// <summary>Keys with pending changes.</summary>
    public int PendingKeys => _pendingKeys;

    public IEnumerable<string> Keys => _slots.Keys;

    /// <summary>The key's current value, pending changes included (owner only; stores that keep it).</summary>
    public TValue? Current(string key) => _slots.TryGetValue(key, out var slot) ? (keepsCurrent ? slot.Current : slot.Head?.Value) : null;

    /// <summary>Records <paramref name="change"/> with the value it leads to (owner only; stores that keep the current value).</summary>
    public void Put(string key, TValue? current, TChange change)
    {
        var slot = _slots.GetOrAdd(key, static k => new Slot(k));
        slot.Current = current;
        AddPending(slot, change);
    }

    /// <summary>Records a pending change; its value is computed when an epoch commits it (owner only).</summary>
    public void Add(string key, TChange change) => AddPending(_slots.GetOrAdd(key, static k => new Slot(k)), change);

    private void AddPending(Slot slot, TChange change)
    {
        slot.Pending ??= new List<Pending>(1);
        if (slot.Pending.Count == 0) _pendingKeys++;
        var pending = new Pending(change, change.Stream, change.Offset);
        slot.Pending.Add(pending);
        Index(slot, pending);
    }

    private void Index(Slot slot, Pending change)
    {
        if (!_pending.TryGetValue(change.Stream, out var queue)) _pending[change.Stream] = queue = new PriorityQueue<Slot, long>();
        queue.Enqueue(slot, change.Offset);
    }

    /// <summary>
    /// Turns the pending changes that <paramref name="epochs"/> (ascending, none older than <see cref="CommittedThrough"/>)
    /// cover into versions, one per key per epoch, and calls <paramref name="versioned"/> for each new version. Committing
    /// the epoch committed last again adds versions of that epoch (the newest of equal epochs is the one read).
    /// </summary>
    public void Commit(IReadOnlyList<Epoch> epochs, long horizonN, Action<string, long, TValue?>? versioned = null)
    {
        if (epochs.Count == 0) return;
        var latest = epochs[^1];
        _touched.Clear();
        _through.Clear();
        foreach (var (stream, queue) in _pending)
        {
            var through = latest[stream];
            while (queue.TryPeek(out var taken, out var offset) && offset <= through)
            {
                queue.Dequeue();
                if (taken.Gone || taken.Touched) continue;
                taken.Touched = true;
                _touched.Add(taken);
            }
        }
        foreach (var slot in _touched)
        {
            slot.Touched = false;
            var key = slot.Key;
            var pending = slot.Pending!;
            _assigned.Clear();
            int first = int.MaxValue, last = -1, uncovered = 0;
            string? stream = null;
            long[] through = [];
            foreach (var change in pending)
            {
                if (!ReferenceEquals(change.Stream, stream))
                {
                    stream = change.Stream;
                    through = ThroughOf(stream, epochs);
                }
                var j = FirstCovering(through, change.Offset);
                _assigned.Add(j);
                if (j < 0)
                {
                    uncovered++;
                    continue;
                }
                if (j < first) first = j;
                if (j > last) last = j;
            }
            if (last < 0) continue;

            if (keepsCurrent && uncovered == 0 && first == last)
            {
                slot.Push(epochs[last].N, slot.Current);
                versioned?.Invoke(key, epochs[last].N, slot.Current);
            }
            else if (first == last)
            {
                var value = slot.Head?.Value;
                for (var i = 0; i < pending.Count; i++)
                    if (_assigned[i] >= 0) value = fold(key, value, pending[i].Change);
                slot.Push(epochs[last].N, value);
                versioned?.Invoke(key, epochs[last].N, value);
            }
            else
            {
                // Several epochs: the covered changes in epoch order (arrival order within one), one version per epoch.
                _order.Clear();
                for (var i = 0; i < pending.Count; i++)
                    if (_assigned[i] >= 0) _order.Add(((long)_assigned[i] << 32) | (uint)i);
                _order.Sort();
                var value = slot.Head?.Value;
                var at = (int)(_order[0] >> 32);
                foreach (var o in _order)
                {
                    var j = (int)(o >> 32);
                    if (j != at)
                    {
                        slot.Push(epochs[at].N, value);
                        versioned?.Invoke(key, epochs[at].N, value);
                        at = j;
                    }
                    value = fold(key, value, pending[(int)(o & 0xFFFF_FFFF)].Change);
                }
                slot.Push(epochs[at].N, value);
                versioned?.Invoke(key, epochs[at].N, value);
            }
            if (slot.Head!.Older is not null) _multi.Add(slot);

            // The uncovered changes stay, in place. A hot key keeps its list (and its capacity) for the next changes
            // instead of growing a new one from nothing after every epoch; a cold key's small list is let go.
            var kept = 0;
            for (var i = 0; i < pending.Count; i++)
                if (_assigned[i] < 0) pending[kept++] = pending[i];
            pending.RemoveRange(kept, pending.Count - kept);
            if (kept == 0)
            {
                _pendingKeys--;
                if (pending.Capacity <= SmallPending) slot.Pending = null;
            }
        }
        if (latest.N > CommittedThrough) Volatile.Write(ref _committedThrough, latest.N);
    }

    /// <summary>How far each epoch of the commit under way covers <paramref name="stream"/> (ascending), computed once per stream.</summary>
    private long[] ThroughOf(string stream, IReadOnlyList<Epoch> epochs)
    {
        if (_through.TryGetValue(stream, out var through)) return through;
        through = new long[epochs.Count];
        for (var j = 0; j < through.Length; j++) through[j] = epochs[j][stream];
        _through[stream] = through;
        return through;
    }

    /// <summary>Folds the versions of every key older than <paramref name="horizonN"/> into the newest of them (owner only).</summary>
    public void Compact(long horizonN)
    {
        if (horizonN <= ReadableFrom) return;
        // First refuse reads below the horizon, then cut: a reader already walking back finds the cut marked.
        Volatile.Write(ref _readableFrom, horizonN);
        _folded.Clear();
        foreach (var slot in _multi)
        {
            // From the oldest end: the work is the versions folded away, not the versions kept.
            var node = slot.Oldest!;
            while (node.Newer is { } newer && newer.N <= horizonN) node = newer;
            if (!ReferenceEquals(node, slot.Oldest))
            {
                node.Truncated = true;
                node.Older = null;
                slot.Oldest = node;
            }
            if (slot.Head!.Older is null) _folded.Add(slot);
        }
        foreach (var slot in _folded) _multi.Remove(slot);
    }

    /// <summary>
    /// The key's value at epoch <paramref name="n"/>, which must be at or below <see cref="CommittedThrough"/>: the newest
    /// version at or before it. Thread-safe; a key never written costs a dictionary lookup and nothing else.
    /// </summary>
    public ReadOutcome TryRead(string key, long n, out TValue? value)
    {
        value = null;
        if (n < ReadableFrom) return ReadOutcome.TooOld;
        if (!_slots.TryGetValue(key, out var slot)) return ReadOutcome.Absent;
        for (var node = slot.Head; node is not null; node = node.Older)
        {
            if (node.N <= n)
            {
                value = node.Value;
                return value is null ? ReadOutcome.Absent : ReadOutcome.Found;
            }
            if (node.Older is null && node.Truncated) return ReadOutcome.TooOld;
        }
        return ReadOutcome.Absent;
    }

    /// <summary>Whether the key has a version newer than epoch <paramref name="n"/> (it changed after n).</summary>
    public bool ChangedAfter(string key, long n) => _slots.TryGetValue(key, out var slot) && slot.Head is { } head && head.N > n;

    /// <summary>Forgets the keys <paramref name="doomed"/> selects, versions and pending changes alike (owner only).</summary>
    public void RemoveWhere(Func<string, bool> doomed)
    {
        foreach (var key in _slots.Keys)
        {
            if (!doomed(key) || !_slots.TryRemove(key, out var slot)) continue;
            slot.Gone = true;
            if (slot.Pending is { Count: > 0 }) _pendingKeys--;
            _multi.Remove(slot);
        }
    }

    /// <summary>Every key's newest committed value and its pending changes (copied), for a snapshot (owner only).</summary>
    public List<StoredKey<TValue, TChange>> Capture()
    {
        var keys = new List<StoredKey<TValue, TChange>>(_slots.Count);
        foreach (var (key, slot) in _slots)
        {
            var value = slot.Head?.Value;
            var pending = slot.Pending is { Count: > 0 } p ? p.ConvertAll(c => c.Change) : null;
            if (value is null && pending is null) continue;
            keys.Add(new StoredKey<TValue, TChange>(key, value, pending));
        }
        return keys;
    }

    /// <summary>
    /// Restores a state captured when <paramref name="committedThrough"/> was the newest epoch committed here: each value
    /// becomes the key's only version, of that epoch, and its pending changes stay pending. Every pending change (and every
    /// change replayed after the snapshot) is first covered by a later epoch, so versions are exact again from that epoch on;
    /// older reads are refused.
    /// </summary>
    public void Restore(IEnumerable<StoredKey<TValue, TChange>> keys, long committedThrough)
    {
        _slots.Clear();
        _pending.Clear();
        _pendingKeys = 0;
        _multi.Clear();
        Volatile.Write(ref _committedThrough, committedThrough);
        Volatile.Write(ref _readableFrom, committedThrough);
        foreach (var k in keys)
        {
            var slot = new Slot(k.Key);
            if (k.Value is not null) slot.Push(committedThrough, k.Value);
            slot.Current = k.Value;
            if (k.Pending is { Count: > 0 } pending)
            {
                slot.Pending = new List<Pending>(pending.Count);
                _pendingKeys++;
                foreach (var change in pending)
                {
                    if (keepsCurrent) slot.Current = fold(k.Key, slot.Current, change);
                    var held = new Pending(change, change.Stream, change.Offset);
                    slot.Pending.Add(held);
                    Index(slot, held);
                }
            }
            _slots[k.Key] = slot;
        }
    }

    /// <summary>The first epoch whose offset for the change's stream reaches <paramref name="offset"/> (binary search), or -1.</summary>
    private static int FirstCovering(long[] through, long offset)
    {
        if (offset > through[^1]) return -1;
        int lo = 0, hi = through.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (through[mid] >= offset) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
}
