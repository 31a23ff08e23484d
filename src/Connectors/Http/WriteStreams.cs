// The HTTP write streams and which one a batch goes to. There are Writes:Streams of them, each a write log of its own
// (offsets, idempotency keys, snapshots): "http:writes" when there is one, "http:writes/0" … "http:writes/{W-1}" when there
// are several, sharded over the nodes so that a node's loss stops only the streams it hosted. A batch that carries
// idempotency keys goes to the stream its first key hashes to (FNV-1a, as key groups), so a retry of the same batch through
// any node meets the stream that remembers its keys; a batch without keys goes, in turn, to a stream this node hosts (no hop,
// and it outlives the loss of any other node), or to any stream when this node hosts none. The node's WriteStreamKeeper
// tells it which streams answered lately and where they run.
using ContextLake.Platform.State;

namespace ContextLake.Connectors.Http;

public sealed class WriteStreams
{
    /// <summary>The shard region of the write streams.</summary>
    public const string RegionName = "writes";

    /// <summary>The stream's name when there is one, and the prefix of every name when there are several.</summary>
    public const string Single = "http:writes";

    /// <summary>A stream not heard from for this long counts as missing (readiness) and as not hosted here (routing).</summary>
    public static readonly TimeSpan Forget = TimeSpan.FromSeconds(10);

    private readonly string[] _names;
    private readonly object _gate = new();
    private readonly (DateTime At, bool Local, long Applied)[] _heard;
    private volatile int[] _local = [];
    private int _turn = -1;

    public WriteStreams(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one write stream");
        Count = count;
        _names = Enumerable.Range(0, count).Select(s => Name(s, count)).ToArray();
        _heard = new (DateTime, bool, long)[count];
    }

    public int Count { get; }

    /// <summary>The name of stream <paramref name="stream"/> of <paramref name="count"/>.</summary>
    public static string Name(int stream, int count) => count == 1 ? Single : $"{Single}/{stream}";

    public string Name(int stream) => _names[stream];

    public IReadOnlyList<string> Names => _names;

    /// <summary>A stream's entity id in the shard region (and the shard's).</summary>
    public static string Id(int stream) => KeyGroups.Id(stream);

    /// <summary>
    /// The stream a client batch goes to: by its first idempotency key when it has one (the same for every retry of the batch,
    /// through any node), else the next of the streams this node hosts, else the next of all.
    /// </summary>
    public int Route(IReadOnlyList<PendingWrite> writes)
    {
        if (Count == 1) return 0;
        foreach (var w in writes)
            if (w.IdempotencyKey is { } key)
                return KeyGroups.PartitionOf(key, Count);
        var turn = (uint)Interlocked.Increment(ref _turn);
        var local = _local;
        return local.Length > 0 ? local[turn % (uint)local.Length] : (int)(turn % (uint)Count);
    }

    /// <summary>What the keeper heard: stream <paramref name="stream"/> answered, from this node or another, having applied through <paramref name="applied"/>.</summary>
    public void Answered(int stream, bool local, long applied, DateTime now)
    {
        if (stream < 0 || stream >= Count) return;
        lock (_gate)
        {
            _heard[stream] = (now, local, applied);
            Refresh(now);
        }
    }

    /// <summary>Forgets the streams not heard from lately as hosted here.</summary>
    public void Refresh(DateTime now)
    {
        lock (_gate)
        {
            var local = Enumerable.Range(0, Count).Where(s => _heard[s].Local && now - _heard[s].At < Forget).ToArray();
            if (!local.AsSpan().SequenceEqual(_local)) _local = local;
        }
    }

    /// <summary>The names of the streams that have not answered within <see cref="Forget"/>: recovering, moving, or never started.</summary>
    public IReadOnlyList<string> Missing(DateTime now)
    {
        lock (_gate) return Enumerable.Range(0, Count).Where(s => now - _heard[s].At >= Forget).Select(s => _names[s]).ToList();
    }

    /// <summary>Events applied over all streams, as last heard (each stream's offsets are gap-free from 1).</summary>
    public long Applied
    {
        get
        {
            lock (_gate) return _heard.Sum(h => h.Applied);
        }
    }
}
