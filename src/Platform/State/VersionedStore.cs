// Versions per epoch: the one multi-version store that entity partitions, view partitions and vector
// partitions share. Each key keeps a short list of committed values, one per epoch in which it changed
// (within the history horizon), and the pending changes after them, which no reader sees. When epochs
// arrive, the owner turns the pending changes each epoch covers into one new version per changed key,
// tagged with that epoch; a read at epoch n takes the newest version at or before n, which at the latest
// epoch is the first one: O(1) whatever the write rate. Pending changes are indexed per stream by offset, so
// an epoch costs the changes it commits, not the keys still pending behind it (a partition under a backlog
// holds tens of thousands, and epochs arrive every few milliseconds). One writer (the partition actor), any
// number of readers on other threads: keys live in an open-addressing table whose array is swapped whole when
// it grows, versions are immutable, and a key is one slot object and one version object, so a partition of a
// million keys holds a few million objects, not tens of millions.
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

/// <summary>
/// Applies <paramref name="changes"/> (in order) to a key's value (null: the key has none), returning the new value without
/// changing the old one; null means the key has no value after them.
/// </summary>
public delegate TValue? FoldChanges<TValue, TChange>(string key, TValue? value, ReadOnlySpan<TChange> changes)
    where TValue : class;

/// <param name="fold">How a key's changes become its next value.</param>
/// <param name="keepsCurrent">
/// Whether the owner keeps each key's current value (all changes applied, pending included) with
/// <see cref="Put"/>; entity partitions do, because an event's row change depends on it.
/// </param>
public sealed class VersionedStore<TValue, TChange>(FoldChanges<TValue, TChange> fold, bool keepsCurrent)
    where TValue : class
    where TChange : IStreamChange
{
    /// <summary>
    /// One committed value, newest first: a reader at the latest epoch reads the head, an older read walks back. A list is
    /// cut below the horizon by pointing its last kept version at <see cref="Cut"/>, so a reader that walks off the end
    /// knows whether the key did not exist yet (null) or its history was folded (Cut).
    /// </summary>
    internal sealed class Version(long n, TValue? value, Version? older)
    {
        public readonly long N = n;
        public readonly TValue? Value = value;
        public volatile Version? Older = older;
    }

    private static readonly Version Cut = new(long.MinValue, null, null);

    /// <summary>A multi-version key's versions, oldest first (a ring buffer: the owner appends new ones and folds old ones).</summary>
    private sealed class History
    {
        private Version[] _items = new Version[4];
        private int _start;

        public int Count { get; private set; }

        public Version this[int i] => _items[(_start + i) & (_items.Length - 1)];

        public void Enqueue(Version version)
        {
            if (Count == _items.Length)
            {
                var grown = new Version[_items.Length * 2];
                for (var i = 0; i < Count; i++) grown[i] = this[i];
                _items = grown;
                _start = 0;
            }
            _items[(_start + Count) & (_items.Length - 1)] = version;
            Count++;
        }

        public void Dequeue()
        {
            _items[_start] = null!;
            _start = (_start + 1) & (_items.Length - 1);
            Count--;
        }
    }

    /// <summary>A pending change with its stream and offset read once (the commit reads them without an interface call).</summary>
    internal readonly record struct Pending(TChange Change, string Stream, long Offset);

    /// <summary>A key: its newest version (readers), its current value and pending changes (owner).</summary>
    public sealed class Entry
    {
        internal Entry(string key, int hash)
        {
            Key = key;
            Hash = hash;
        }

        public string Key { get; }

        internal readonly int Hash;
        internal volatile Version? Head;

        /// <summary>The value with every change applied, pending ones included (stores that keep it; owner only).</summary>
        public TValue? Current { get; internal set; }

        internal List<Pending>? Changes;

        /// <summary>Taken for the commit under way (it has a change the newest epoch covers).</summary>
        internal bool Touched;

        /// <summary>Removed from the store: its pending changes left in the index are skipped.</summary>
        internal bool Gone;

    }

    private const int InitialCapacity = 16;

    /// <summary>A key's emptied pending list is kept when it grew beyond this (a hot key), let go otherwise.</summary>
    private const int SmallPending = 8;

    /// <summary>Open addressing, linear probing; swapped whole (a new array) when it grows or loses keys.</summary>
    private volatile Entry?[] _table = new Entry?[InitialCapacity];
    private int _count;

    /// <summary>Every pending change's key, per stream, by offset: an epoch takes the prefix of each it covers.</summary>
    private readonly Dictionary<string, PriorityQueue<Entry, long>> _pending = new(StringComparer.Ordinal);
    private readonly List<Entry> _touched = new();
    private int _pendingKeys;
    /// <summary>The versions of every key that holds more than one, oldest first: Compact folds from that end.</summary>
    private readonly Dictionary<Entry, History> _multi = new(ReferenceEqualityComparer.Instance);
    private readonly List<Entry> _folded = new();
    private readonly List<int> _assigned = new();
    private readonly List<long> _order = new();
    private readonly List<TChange> _batch = new();
    private readonly Dictionary<string, long[]> _through = new(StringComparer.Ordinal);
    private long _committedThrough;
    private long _readableFrom;

    /// <summary>The newest epoch whose changes are all turned into versions: reads at or below it are answered here.</summary>
    public long CommittedThrough => Volatile.Read(ref _committedThrough);

    /// <summary>The oldest epoch this store can answer (after a restart, or once older versions are folded).</summary>
    public long ReadableFrom => Volatile.Read(ref _readableFrom);

    public int Count => Volatile.Read(ref _count);

    /// <summary>Keys with pending changes.</summary>
    public int PendingKeys => _pendingKeys;

    /// <summary>Every key (owner only).</summary>
    public IEnumerable<string> Keys
    {
        get
        {
            foreach (var entry in _table)
                if (entry is not null) yield return entry.Key;
        }
    }

    /// <summary>The key's current value, pending changes included (owner only; stores that keep it).</summary>
    public TValue? Current(string key) => Find(_table, key) is { } entry ? (keepsCurrent ? entry.Current : entry.Head?.Value) : null;

    /// <summary>The key's entry, created when it has none (owner only): its current value, and where <see cref="Put"/> records.</summary>
    public Entry Open(string key)
    {
        var hash = HashOf(key);
        var table = _table;
        var mask = table.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var entry = table[i];
            if (entry is null) break;
            if (entry.Hash == hash && string.Equals(entry.Key, key, StringComparison.Ordinal)) return entry;
        }
        var added = new Entry(key, hash);
        if ((_count + 1) * 4 > table.Length * 3) table = Grow(table);
        Insert(table, added);
        Volatile.Write(ref _count, _count + 1);
        return added;
    }

    /// <summary>Records <paramref name="change"/> with the value it leads to (owner only; stores that keep the current value).</summary>
    public void Put(Entry entry, TValue? current, TChange change)
    {
        entry.Current = current;
        AddPending(entry, change);
    }

    /// <summary>Records <paramref name="change"/> of <paramref name="key"/> with the value it leads to (owner only; stores that keep the current value).</summary>
    public void Put(string key, TValue? current, TChange change) => Put(Open(key), current, change);

    /// <summary>Records a pending change; its value is computed when an epoch commits it (owner only).</summary>
    public void Add(string key, TChange change) => AddPending(Open(key), change);

    private void AddPending(Entry entry, TChange change)
    {
        entry.Changes ??= new List<Pending>(1);
        if (entry.Changes.Count == 0) _pendingKeys++;
        var stream = change.Stream;
        var offset = change.Offset;
        entry.Changes.Add(new Pending(change, stream, offset));
        if (!_pending.TryGetValue(stream, out var queue)) _pending[stream] = queue = new PriorityQueue<Entry, long>();
        queue.Enqueue(entry, offset);
    }

    /// <summary>
    /// Turns the pending changes that <paramref name="epochs"/> (ascending, none older than <see cref="CommittedThrough"/>)
    /// cover into versions, one per key per epoch, and calls <paramref name="versioned"/> for each new version. Committing the
    /// epoch committed last again adds versions of that epoch (the newest of equal epochs is the one read).
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
        foreach (var entry in _touched)
        {
            entry.Touched = false;
            var pending = entry.Changes!;
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

            if (keepsCurrent && uncovered == 0 && first == last) Push(entry, epochs[last].N, entry.Current, versioned);
            else if (first == last)
            {
                _batch.Clear();
                for (var i = 0; i < pending.Count; i++)
                    if (_assigned[i] >= 0) _batch.Add(pending[i].Change);
                Push(entry, epochs[last].N, fold(entry.Key, entry.Head?.Value, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_batch)), versioned);
            }
            else
            {
                // Several epochs: the covered changes in epoch order (arrival order within one), one version per epoch.
                _order.Clear();
                for (var i = 0; i < pending.Count; i++)
                    if (_assigned[i] >= 0) _order.Add(((long)_assigned[i] << 32) | (uint)i);
                _order.Sort();
                var value = entry.Head?.Value;
                var at = (int)(_order[0] >> 32);
                _batch.Clear();
                foreach (var o in _order)
                {
                    var j = (int)(o >> 32);
                    if (j != at)
                    {
                        value = fold(entry.Key, value, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_batch));
                        Push(entry, epochs[at].N, value, versioned);
                        _batch.Clear();
                        at = j;
                    }
                    _batch.Add(pending[(int)(o & 0xFFFF_FFFF)].Change);
                }
                Push(entry, epochs[at].N, fold(entry.Key, value, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_batch)), versioned);
            }
            _batch.Clear();

            // The uncovered changes stay, in place. A hot key keeps its list (and its capacity) for the next changes
            // instead of growing a new one from nothing after every epoch; a cold key's small list is let go.
            var kept = 0;
            for (var i = 0; i < pending.Count; i++)
                if (_assigned[i] < 0) pending[kept++] = pending[i];
            pending.RemoveRange(kept, pending.Count - kept);
            if (kept == 0)
            {
                _pendingKeys--;
                if (pending.Capacity <= SmallPending) entry.Changes = null;
            }
        }
        if (latest.N > CommittedThrough) Volatile.Write(ref _committedThrough, latest.N);
    }

    /// <summary>A new newest version; a key that now holds several has them queued, oldest first, for Compact.</summary>
    private void Push(Entry entry, long n, TValue? value, Action<string, long, TValue?>? versioned)
    {
        var previous = entry.Head;
        var version = new Version(n, value, previous);
        entry.Head = version;
        versioned?.Invoke(entry.Key, n, value);
        if (previous is null || ReferenceEquals(previous, Cut)) return;
        if (!_multi.TryGetValue(entry, out var versions))
        {
            _multi[entry] = versions = new History();
            versions.Enqueue(previous);
        }
        versions.Enqueue(version);
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
        foreach (var (entry, versions) in _multi)
        {
            // From the oldest end: the newest version at or below the horizon stays (it answers reads from the horizon on),
            // the ones before it go; the work is the versions folded away, not the versions kept.
            var dropped = false;
            while (versions.Count >= 2 && versions[1].N <= horizonN)
            {
                versions.Dequeue();
                dropped = true;
            }
            if (dropped) versions[0].Older = Cut;
            if (versions.Count == 1) _folded.Add(entry);
        }
        foreach (var entry in _folded) _multi.Remove(entry);
    }

    /// <summary>
    /// The key's value at epoch <paramref name="n"/>, which must be at or below <see cref="CommittedThrough"/>: the newest
    /// version at or before it. Thread-safe; a key never written costs a lookup and nothing else.
    /// </summary>
    public ReadOutcome TryRead(string key, long n, out TValue? value)
    {
        value = null;
        if (n < ReadableFrom) return ReadOutcome.TooOld;
        if (Find(_table, key) is not { } entry) return ReadOutcome.Absent;
        for (var node = entry.Head; node is not null; node = node.Older)
        {
            if (ReferenceEquals(node, Cut)) return ReadOutcome.TooOld;
            if (node.N <= n)
            {
                value = node.Value;
                return value is null ? ReadOutcome.Absent : ReadOutcome.Found;
            }
        }
        return ReadOutcome.Absent;
    }

    /// <summary>Whether the key has a version newer than epoch <paramref name="n"/> (it changed after n).</summary>
    public bool ChangedAfter(string key, long n) => Find(_table, key) is { Head: { } head } && head.N > n;

    /// <summary>Forgets the keys <paramref name="doomed"/> selects, versions and pending changes alike (owner only).</summary>
    public void RemoveWhere(Func<string, bool> doomed)
    {
        var table = _table;
        var kept = new List<Entry>(_count);
        foreach (var entry in table)
        {
            if (entry is null) continue;
            if (!doomed(entry.Key))
            {
                kept.Add(entry);
                continue;
            }
            entry.Gone = true;
            if (entry.Changes is { Count: > 0 }) _pendingKeys--;
            _multi.Remove(entry);
        }
        if (kept.Count == _count) return;
        var rebuilt = new Entry?[CapacityFor(kept.Count)];
        foreach (var entry in kept) Insert(rebuilt, entry);
        _table = rebuilt;
        Volatile.Write(ref _count, kept.Count);
    }

    /// <summary>Every key's newest committed value and its pending changes (copied), for a snapshot (owner only).</summary>
    public List<StoredKey<TValue, TChange>> Capture()
    {
        var keys = new List<StoredKey<TValue, TChange>>(_count);
        CaptureEach(keys, static (keys, key, value, pending) => keys.Add(new StoredKey<TValue, TChange>(key, value, pending.IsEmpty ? null : pending.ToArray())));
        return keys;
    }

    /// <summary>
    /// Calls <paramref name="capture"/> for every key with a committed value or pending changes, with its newest committed
    /// value and its pending changes in arrival order, for a snapshot written as it goes (owner only).
    /// </summary>
    public void CaptureEach<TState>(TState state, Action<TState, string, TValue?, ReadOnlySpan<TChange>> capture)
    {
        foreach (var entry in _table)
        {
            if (entry is null) continue;
            var value = entry.Head?.Value;
            _batch.Clear();
            if (entry.Changes is { } changes)
                foreach (var c in changes) _batch.Add(c.Change);
            if (value is null && _batch.Count == 0) continue;
            capture(state, entry.Key, value, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_batch));
        }
        _batch.Clear();
    }

    /// <summary>
    /// Restores a state captured when <paramref name="committedThrough"/> was the newest epoch committed here: each value
    /// becomes the key's only version, of that epoch, and its pending changes stay pending. Every pending change (and every
    /// change replayed after the snapshot) is first covered by a later epoch, so versions are exact again from that epoch on;
    /// older reads are refused.
    /// </summary>
    public void Restore(IEnumerable<StoredKey<TValue, TChange>> keys, long committedThrough)
    {
        Clear(committedThrough);
        foreach (var k in keys) Restore(k.Key, k.Value, k.Pending is { } p ? p as TChange[] ?? p.ToArray() : []);
    }

    /// <summary>Forgets everything before a restore: the store answers from <paramref name="committedThrough"/> on (owner only).</summary>
    public void Clear(long committedThrough)
    {
        _table = new Entry?[InitialCapacity];
        Volatile.Write(ref _count, 0);
        _pending.Clear();
        _pendingKeys = 0;
        _multi.Clear();
        Volatile.Write(ref _committedThrough, committedThrough);
        Volatile.Write(ref _readableFrom, committedThrough);
    }

    /// <summary>Restores one key after <see cref="Clear"/>: its committed value, as of the snapshot's epoch, and its pending changes.</summary>
    public void Restore(string key, TValue? value, ReadOnlySpan<TChange> pending)
    {
        var entry = Open(key);
        if (value is not null) entry.Head = new Version(CommittedThrough, value, null);
        entry.Current = keepsCurrent && !pending.IsEmpty ? fold(key, value, pending) : value;
        foreach (var change in pending) AddPending(entry, change);
    }

    private static int HashOf(string key) => key.GetHashCode() & int.MaxValue;

    private static Entry? Find(Entry?[] table, string key)
    {
        var hash = HashOf(key);
        var mask = table.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var entry = table[i];
            if (entry is null) return null;
            if (entry.Hash == hash && string.Equals(entry.Key, key, StringComparison.Ordinal)) return entry;
        }
    }

    private static void Insert(Entry?[] table, Entry entry)
    {
        var mask = table.Length - 1;
        var i = entry.Hash & mask;
        while (table[i] is not null) i = (i + 1) & mask;
        table[i] = entry;
    }

    /// <summary>A table twice the size, filled before it is published: readers holding the old one still find every key it had.</summary>
    private Entry?[] Grow(Entry?[] table)
    {
        var grown = new Entry?[table.Length * 2];
        foreach (var entry in table)
            if (entry is not null) Insert(grown, entry);
        _table = grown;
        return grown;
    }

    private static int CapacityFor(int keys)
    {
        var capacity = InitialCapacity;
        while (keys * 4 > capacity * 3) capacity *= 2;
        return capacity;
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
