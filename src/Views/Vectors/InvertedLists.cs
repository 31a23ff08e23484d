// The inverted file of a VectorIndex: k-means centroids and, per centroid, an IvfList holding the vectors
// nearest to it (copies, so the lists live independently of the index's slot array). Knows for every slot
// its list and row, so upserts and removals update it in place.
using System.Numerics.Tensors;

namespace ContextLake.Views.Vectors;

internal sealed class InvertedLists
{
    private readonly int _dim;
    private readonly float[] _centroids;
    private readonly IvfList[] _lists;
    private int[] _listOf;
    private int[] _rowOf;

    /// <param name="sizes">Expected vectors per list, to size each block once; null for small starting blocks.</param>
    public InvertedLists(int dim, float[] centroids, int capacity, int trainedOn, int[]? sizes = null)
    {
        _dim = dim;
        _centroids = centroids;
        _lists = new IvfList[centroids.Length / dim];
        for (var i = 0; i < _lists.Length; i++) _lists[i] = new IvfList(dim, Math.Max(8, sizes?[i] ?? 0));
        _listOf = new int[Math.Max(capacity, 1)];
        _rowOf = new int[_listOf.Length];
        Array.Fill(_listOf, -1);
        TrainedOn = trainedOn;
    }

    public int Count => _lists.Length;

    /// <summary>How many vectors the centroids were trained on (the index retrains once it has doubled).</summary>
    public int TrainedOn { get; }

    public IvfList List(int list) => _lists[list];

    public void Add(int slot, ReadOnlySpan<float> vector) => Add(slot, KMeans.Nearest(_centroids, _dim, vector), vector);

    /// <summary>Files <paramref name="slot"/> under a list already chosen (bulk builds assign lists in parallel).</summary>
    public void Add(int slot, int list, ReadOnlySpan<float> vector)
    {
        Grow(slot + 1);
        _listOf[slot] = list;
        _rowOf[slot] = _lists[list].Add(slot, vector);
    }

    /// <summary>Removes <paramref name="slot"/> if it is filed; returns whether it was.</summary>
    public bool Remove(int slot)
    {
        if (slot >= _listOf.Length || _listOf[slot] < 0) return false;
        var row = _rowOf[slot];
        var moved = _lists[_listOf[slot]].RemoveAt(row);
        if (moved >= 0) _rowOf[moved] = row;
        _listOf[slot] = -1;
        return true;
    }

    /// <summary>The <paramref name="probes"/> lists whose centroids are most similar to <paramref name="query"/>.</summary>
    public int[] Nearest(ReadOnlySpan<float> query, int probes)
    {
        probes = Math.Min(probes, Count);
        var scores = new float[Count];
        for (var c = 0; c < Count; c++) scores[c] = -TensorPrimitives.Dot(query, _centroids.AsSpan(c * _dim, _dim));
        var order = new int[Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(scores, order);
        return order[..probes];
    }

    /// <summary>How many lists nearest to <paramref name="query"/> a search must probe to reach <paramref name="slot"/>'s list; 0 when not filed.</summary>
    public int ProbesToReach(ReadOnlySpan<float> query, int slot)
    {
        if (slot >= _listOf.Length || _listOf[slot] < 0) return 0;
        var own = TensorPrimitives.Dot(query, _centroids.AsSpan(_listOf[slot] * _dim, _dim));
        var closer = 0;
        for (var c = 0; c < Count; c++)
            if (TensorPrimitives.Dot(query, _centroids.AsSpan(c * _dim, _dim)) > own) closer++;
        return closer + 1;
    }

    private void Grow(int slots)
    {
        if (slots <= _listOf.Length) return;
        var old = _listOf.Length;
        var capacity = Math.Max(slots, old * 2);
        Array.Resize(ref _listOf, capacity);
        Array.Resize(ref _rowOf, capacity);
        _listOf.AsSpan(old).Fill(-1);
    }
}
