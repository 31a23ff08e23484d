// Spherical k-means: centroids of unit length, a vector's nearest centroid being the one with the highest
// dot product (for unit vectors, the smallest angle). Trained on a sample, assignments in parallel.
using System.Numerics.Tensors;

namespace ContextLake.Views.Vectors;

internal static class KMeans
{
    /// <summary>
    /// <paramref name="lists"/> centroids for the <paramref name="vectors"/> (row after row, <paramref name="dim"/>
    /// floats each), trained on a sample of 64 vectors per centroid: about as good as all of them, at a fraction of the cost.
    /// </summary>
    public static float[] Train(float[] vectors, int dim, int lists, int iterations, int seed)
    {
        var random = new Random(seed);
        var count = vectors.Length / dim;
        var all = Enumerable.Range(0, count).ToArray();
        var sample = count <= lists * 64 ? all : random.GetItems(all, lists * 64);
        var centroids = new float[lists * dim];
        var seeds = random.GetItems(sample, lists);
        for (var c = 0; c < lists; c++) Row(vectors, dim, seeds[c]).CopyTo(centroids.AsSpan(c * dim, dim));
        Normalize(centroids, dim);

        var assignment = new int[sample.Length];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            Parallel.For(0, sample.Length, i => assignment[i] = Nearest(centroids, dim, Row(vectors, dim, sample[i])));
            var sums = new float[lists * dim];
            var counts = new int[lists];
            for (var i = 0; i < sample.Length; i++)
            {
                var c = assignment[i];
                counts[c]++;
                TensorPrimitives.Add(sums.AsSpan(c * dim, dim), Row(vectors, dim, sample[i]), sums.AsSpan(c * dim, dim));
            }
            for (var c = 0; c < lists; c++)
            {
                // An empty list takes a random sample vector, so no centroid is wasted.
                if (counts[c] == 0) Row(vectors, dim, sample[random.Next(sample.Length)]).CopyTo(sums.AsSpan(c * dim, dim));
            }
            Normalize(sums, dim);
            sums.CopyTo(centroids, 0);
        }
        return centroids;
    }

    public static int Nearest(float[] centroids, int dim, ReadOnlySpan<float> vector)
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

    private static ReadOnlySpan<float> Row(float[] vectors, int dim, int row) => vectors.AsSpan(row * dim, dim);

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
