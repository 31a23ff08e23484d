// The vectors of one partition, searchable two ways: exactly (a SIMD dot product with every vector, the
// baseline and the oracle) and approximately through an inverted file (IVF): k-means centroids cut the
// space into lists and a query scans only the lists of its nearest centroids. Upserts and removals keep
// both current; the centroids are trained once the set is large enough to be worth it and retrained when
// it has doubled since.
namespace ContextLake.Views.Vectors;

/// <summary>
/// How the approximate index is shaped. Below <see cref="MinVectors"/> every search is exact (a scan is as
/// cheap as probing). Lists = <see cref="ListsPerSqrt"/> × √n; a query scans the <see cref="ProbeFraction"/>
/// of the lists nearest to it. Uniformly random vectors are the worst case (no cluster structure): the
/// default probe share is what reaches recall@10 ≥ 0.95 there; clustered embeddings need far fewer.
/// </summary>
public sealed record IvfOptions(int MinVectors = 20_000, double ListsPerSqrt = 1.0, double ProbeFraction = 0.8, int TrainIterations = 8, int Seed = 17)
{
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
    }

    public bool Remove(string id)
    {
        if (!_slotOf.Remove(id, out var slot)) return false;
        _lists?.Remove(slot);
        _ids[slot] = null;
        _free.Push(slot);
        return true;
    }

    /// <summary>
    /// Trains the lists once the set reaches <see cref="IvfOptions.MinVectors"/> and again whenever it has doubled
    /// since they were trained; drops them below the minimum. Returns whether it trained.
    /// </summary>
    public bool MaintainApproximate()
    {
        if (Count < _ivf.MinVectors)
        {
            _lists = null;
            return false;
        }
        if (_lists is not null && Count < 2 * _lists.TrainedOn) return false;
        BuildApproximate();
        return true;
    }

    /// <summary>Trains centroids on the current vectors and files every vector under its nearest one.</summary>
    public void BuildApproximate()
    {
        var slots = new int[Count];
        var n = 0;
        for (var slot = 0; slot < _highWater; slot++)
            if (_ids[slot] is not null) slots[n++] = slot;
        var lists = Math.Max(1, (int)Math.Round(_ivf.ListsPerSqrt * Math.Sqrt(slots.Length)));
        _lists = InvertedLists.Train(_data, _dim, slots, lists, _ivf, _ids.Length);
    }

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
    /// The approximate top <paramref name="k"/> through the inverted lists when they exist, else exact. When the
    /// probed lists hold fewer than k accepted vectors (a selective filter), the answer falls back to an exact scan.
    /// </summary>
    public List<Neighbor> Search(ReadOnlySpan<float> query, int k, Func<string, bool>? accept = null, double? probeFraction = null)
    {
        if (_lists is null) return SearchExact(query, k, accept);
        var top = new TopK(k);
        var probes = Math.Max(1, (int)Math.Ceiling((probeFraction ?? _ivf.ProbeFraction) * _lists.Count));
        foreach (var list in _lists.Nearest(query, probes))
        {
            foreach (var slot in _lists.Members(list))
            {
                var score = VectorMath.Score(query, Vector(slot));
                if (top.Admits(score) && (accept is null || accept(_ids[slot]!))) top.Offer(new Neighbor(_ids[slot]!, score));
            }
        }
        return top.Count < Math.Min(k, Count) ? SearchExact(query, k, accept) : top.ToList();
    }

    private Span<float> Vector(int slot) => _data.AsSpan(slot * _dim, _dim);

    private void Grow(int slots)
    {
        if (slots <= _ids.Length) return;
        var capacity = Math.Max(slots, _ids.Length * 2);
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _data, capacity * _dim);
        _lists?.Grow(capacity);
    }
}
