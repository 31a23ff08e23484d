// The vectors of one partition, searchable two ways: exactly (a SIMD dot product with every vector, the
// baseline and the oracle) and approximately through an inverted file (IVF): k-means centroids cut the
// space into lists and a query scans only the lists of its nearest centroids. Upserts and removals keep
// both current; the centroids are trained once the set is large enough to be worth it and retrained when
// it has doubled since, on a copy of the vectors (IvfTraining) so the owner may train on another thread.
namespace ContextLake.Views.Vectors;

/// <summary>
/// How the approximate index is shaped. Below <see cref="MinVectors"/> every search is exact (a scan is as
/// cheap as probing). Lists = <see cref="ListsPerSqrt"/> × √n; a query scans the <see cref="Probes"/> lists
/// whose centroids are nearest to it (a view sets it with WITH (probes = N)).
/// </summary>
public sealed record IvfOptions(int MinVectors = 20_000, double ListsPerSqrt = 1.0, int Probes = IvfOptions.DefaultProbes, int TrainIterations = 8, int Seed = 17)
{
    /// <summary>Enough for recall@10 ≥ 0.95 on clustered embeddings (see the benchmark); random data needs most lists.</summary>
    public const int DefaultProbes = 32;

    public static IvfOptions Default { get; } = new();
}

public sealed class VectorIndex
{
    private readonly int _dim;
    private readonly IvfOptions _ivf;
    private float[] _data;
    private string?[] _ids;
    private readonly Dictionary<string, int> _slotOf = new(StringComparer.Ordinal);
    private readonly Stack<int> _free = new();
    private int _highWater;
    private InvertedLists? _lists;
    private IvfTraining? _training;
    private readonly HashSet<int> _changedDuringTraining = new();

    public VectorIndex(int dimensions, IvfOptions? ivf = null, int capacity = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        _dim = dimensions;
        _ivf = ivf ?? IvfOptions.Default;
        capacity = Math.Max(1, capacity);
        _data = new float[(long)capacity * dimensions];
        _ids = new string?[capacity];
    }

    public int Dimensions => _dim;

    public int Count => _slotOf.Count;

    /// <summary>Whether <see cref="Search"/> goes through the inverted lists (else it is exact).</summary>
    public bool IsApproximate => _lists is not null;

    public int ListCount => _lists?.Count ?? 0;

    /// <summary>
    /// Whether the lists should be (re)trained: the set has reached <see cref="IvfOptions.MinVectors"/> and has no
    /// lists yet or has doubled since they were trained, and no training is under way.
    /// </summary>
    public bool TrainingDue => _training is null && Count >= _ivf.MinVectors && (_lists is null || Count >= 2 * _lists.TrainedOn);

    public bool Contains(string id) => _slotOf.ContainsKey(id);

    /// <summary>Adds or replaces <paramref name="id"/>'s vector (already prepared for the metric).</summary>
    public void Upsert(string id, ReadOnlySpan<float> vector)
    {
        if (vector.Length != _dim) throw new ArgumentException($"vector has {vector.Length} dimensions, the index {_dim}", nameof(vector));
        if (!_slotOf.TryGetValue(id, out var slot))
        {
            slot = _free.Count > 0 ? _free.Pop() : _highWater++;
            Grow(slot + 1);
            _slotOf[id] = slot;
            _ids[slot] = id;
        }
        else
        {
            _lists?.Remove(slot);
        }
        vector.CopyTo(Vector(slot));
        _lists?.Add(slot, Vector(slot));
        if (_training is not null) _changedDuringTraining.Add(slot);
    }

    public bool Remove(string id)
    {
        if (!_slotOf.Remove(id, out var slot)) return false;
        _lists?.Remove(slot);
        _ids[slot] = null;
        _free.Push(slot);
        if (_training is not null) _changedDuringTraining.Add(slot);
        if (Count < _ivf.MinVectors) DropApproximate();
        return true;
    }

    /// <summary>
    /// Starts (re)training the lists on a copy of the current vectors: run <see cref="IvfTraining.Run"/> on any thread,
    /// then hand it to <see cref="Install"/>. Searches meanwhile use the previous lists, or are exact.
    /// </summary>
    public IvfTraining StartTraining()
    {
        var slots = new int[Count];
        var vectors = new float[(long)Count * _dim];
        var n = 0;
        for (var slot = 0; slot < _highWater; slot++)
        {
            if (_ids[slot] is null) continue;
            Vector(slot).CopyTo(vectors.AsSpan(n * _dim, _dim));
            slots[n++] = slot;
        }
        _changedDuringTraining.Clear();
        return _training = new IvfTraining(_dim, vectors, slots, _ivf, _ids.Length);
    }

    /// <summary>
    /// Installs finished lists after replaying onto them the slots changed since <paramref name="training"/> started.
    /// False (nothing installed) when it is not the training under way: superseded, or dropped below the minimum.
    /// </summary>
    public bool Install(IvfTraining training)
    {
        if (!ReferenceEquals(training, _training) || training.Result is not { } lists) return false;
        foreach (var slot in _changedDuringTraining)
        {
            lists.Remove(slot);
            if (_ids[slot] is not null) lists.Add(slot, Vector(slot));
        }
        _changedDuringTraining.Clear();
        _training = null;
        _lists = lists;
        return true;
    }

    /// <summary>Forgets a training that failed or will not finish, so a later one can start.</summary>
    public void AbandonTraining(IvfTraining training)
    {
        if (!ReferenceEquals(training, _training)) return;
        _training = null;
        _changedDuringTraining.Clear();
    }

    /// <summary>Trains on this thread when <see cref="TrainingDue"/>; returns whether it trained.</summary>
    public bool MaintainApproximate() => TrainingDue && BuildApproximate();

    /// <summary>Trains centroids on the current vectors and files every vector under its nearest one, on this thread.</summary>
    public bool BuildApproximate() => Install(StartTraining().Run());

    /// <summary>The exact top <paramref name="k"/> by a scan of every vector. <paramref name="accept"/> is asked only for candidates good enough to enter.</summary>
    public List<Neighbor> SearchExact(ReadOnlySpan<float> query, int k, Func<string, bool>? accept = null)
    {
        var top = new TopK(k);
        for (var slot = 0; slot < _highWater; slot++)
        {
            var id = _ids[slot];
            if (id is null) continue;
            var score = VectorMath.Score(query, Vector(slot));
            if (top.Admits(score) && (accept is null || accept(id))) top.Offer(new Neighbor(id, score));
        }
        return top.ToList();
    }

    /// <summary>
    /// The approximate top <paramref name="k"/> through the inverted lists when they exist, else exact: the vectors of
    /// the <paramref name="probes"/> lists nearest to the query (default <see cref="IvfOptions.Probes"/>). When those
    /// hold fewer than k accepted vectors (a selective filter), the answer falls back to an exact scan.
    /// </summary>
    public List<Neighbor> Search(ReadOnlySpan<float> query, int k, Func<string, bool>? accept = null, int? probes = null)
    {
        if (_lists is null) return SearchExact(query, k, accept);
        var top = new TopK(k);
        foreach (var l in _lists.Nearest(query, Math.Max(1, probes ?? _ivf.Probes)))
        {
            var list = _lists.List(l);
            for (var row = 0; row < list.Count; row++)
            {
                var score = list.ScoreAt(row, query);
                if (!top.Admits(score)) continue;
                var id = _ids[list.SlotAt(row)]!;
                if (accept is null || accept(id)) top.Offer(new Neighbor(id, score));
            }
        }
        return top.Count < Math.Min(k, Count) ? SearchExact(query, k, accept) : top.ToList();
    }

    /// <summary>
    /// How many lists a search for <paramref name="query"/> must probe to see <paramref name="id"/> (so the recall of every
    /// probe count follows from one exact search); 0 without lists or for an unknown id.
    /// </summary>
    public int ProbesToReach(ReadOnlySpan<float> query, string id) =>
        _lists is not null && _slotOf.TryGetValue(id, out var slot) ? _lists.ProbesToReach(query, slot) : 0;

    private void DropApproximate()
    {
        _lists = null;
        _training = null;
        _changedDuringTraining.Clear();
    }

    private Span<float> Vector(int slot) => _data.AsSpan(slot * _dim, _dim);

    private void Grow(int slots)
    {
        if (slots <= _ids.Length) return;
        var capacity = Math.Max(slots, _ids.Length * 2);
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _data, capacity * _dim);
    }
}
