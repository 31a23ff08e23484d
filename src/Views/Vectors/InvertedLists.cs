// The inverted file of a VectorIndex: spherical k-means centroids (trained on a sample, in parallel) and,
// per centroid, the slots of the vectors nearest to it. Nearest means the highest dot product, which for
// unit vectors (cosine) is the smallest angle.
using System.Numerics.Tensors;

namespace ContextLake.Views.Vectors;

internal sealed class InvertedLists
{
    private readonly int _dim;
    private readonly float[] _centroids;
    private readonly int[][] _members;
    private readonly int[] _sizes;
    private int[] _listOf;
    private int[] _position;

    private InvertedLists(int dim, float[] centroids, int lists, int capacity, int trainedOn)
    {
        _dim = dim;
        _centroids = centroids;
        _members = new int[lists][];
        for (var i = 0; i < lists; i++) _members[i] = new int[8];
        _sizes = new int[lists];
        _listOf = new int[capacity];
        _position = new int[capacity];
        TrainedOn = trainedOn;
    }

    public int Count => _sizes.Length;

    public int TrainedOn { get; }

    public ReadOnlySpan<int> Members(int list) => _members[list].AsSpan(0, _sizes[list]);

    public static InvertedLists Train(float[] data, int dim, int[] slots, int lists, IvfOptions options, int capacity)
    {
        var random = new Random(options.Seed);
        // A sample of 64 vectors per list trains centroids about as well as all of them, at a fraction of the cost.
        var sample = slots.Length <= lists * 64 ? slots : random.GetItems(slots, lists * 64);
        var centroids = new float[lists * dim];
        var seeds = random.GetItems(sample, lists);
        for (var c = 0; c < lists; c++) data.AsSpan(seeds[c] * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
        Normalize(centroids, dim);

        var assignment = new int[sample.Length];
        for (var iteration = 0; iteration < options.TrainIterations; iteration++)
        {
            Parallel.For(0, sample.Length, i => assignment[i] = Nearest(centroids, dim, data.AsSpan(sample[i] * dim, dim)));
            var sums = new float[lists * dim];
            var counts = new int[lists];
            for (var i = 0; i < sample.Length; i++)
            {
                var c = assignment[i];
                counts[c]++;
                TensorPrimitives.Add(sums.AsSpan(c * dim, dim), data.AsSpan(sample[i] * dim, dim), sums.AsSpan(c * dim, dim));
            }
            for (var c = 0; c < lists; c++)
            {
                // An empty list takes a random sample vector, so no centroid is wasted.
                if (counts[c] == 0) data.AsSpan(sample[random.Next(sample.Length)] * dim, dim).CopyTo(sums.AsSpan(c * dim, dim));
            }
            Normalize(sums, dim);
            sums.CopyTo(centroids, 0);
        }

        var index = new InvertedLists(dim, centroids, lists, Math.Max(capacity, 1), slots.Length);
        var nearest = new int[slots.Length];
        Parallel.For(0, slots.Length, i => nearest[i] = Nearest(centroids, dim, data.AsSpan(slots[i] * dim, dim)));
        for (var i = 0; i < slots.Length; i++) index.Append(nearest[i], slots[i]);
        return index;
    }

    public void Add(int slot, ReadOnlySpan<float> vector) => Append(Nearest(_centroids, _dim, vector), slot);

    public void Remove(int slot)
    {
        var list = _listOf[slot];
        var at = _position[slot];
        var last = --_sizes[list];
        var moved = _members[list][last];
        _members[list][at] = moved;
        _position[moved] = at;
    }

    public void Grow(int capacity)
    {
        if (capacity <= _listOf.Length) return;
        Array.Resize(ref _listOf, capacity);
        Array.Resize(ref _position, capacity);
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

    private void Append(int list, int slot)
    {
        if (_sizes[list] == _members[list].Length) Array.Resize(ref _members[list], _members[list].Length * 2);
        _members[list][_sizes[list]] = slot;
        _listOf[slot] = list;
        _position[slot] = _sizes[list]++;
    }

    private static int Nearest(float[] centroids, int dim, ReadOnlySpan<float> vector)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var c = 0; c < centroids.Length / dim; c++)
        {
            var score = TensorPrimitives.Dot(vector, centroids.AsSpan(c * dim, dim));
            if (score > bestScore)
            {
                bestScore = score;
                best = c;
            }
        }
        return best;
    }

    private static void Normalize(float[] vectors, int dim)
    {
        for (var c = 0; c < vectors.Length / dim; c++)
        {
            var v = vectors.AsSpan(c * dim, dim);
            var norm = TensorPrimitives.Norm(v);
            if (norm > 0) TensorPrimitives.Divide(v, norm, v);
        }
    }
}
