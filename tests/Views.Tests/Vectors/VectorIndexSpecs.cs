// The vector index against brute force: exact search is exactly the top k; the IVF index stays correct
// through upserts and removals, and reaches recall@10 >= 0.95 on 100,000 random 128-dimension vectors.
using ContextLake.Views.Vectors;
using Xunit;

namespace ContextLake.Views.Tests.Vectors;

public sealed class VectorIndexSpecs
{
    [Fact]
    public void exact_search_through_upserts_and_removals_is_the_brute_force_top_k()
    {
        var random = new Random(3);
        var index = new VectorIndex(8);
        var truth = new Dictionary<string, float[]>();
        for (var step = 0; step < 3000; step++)
        {
            var id = "e" + random.Next(400);
            if (random.NextDouble() < 0.25)
            {
                Assert.Equal(truth.Remove(id), index.Remove(id));
                continue;
            }
            var v = Unit(random, 8);
            truth[id] = v;
            index.Upsert(id, v);
        }
        Assert.Equal(truth.Count, index.Count);
        for (var q = 0; q < 50; q++)
        {
            var query = Unit(random, 8);
            var expected = truth.Select(kv => new Neighbor(kv.Key, VectorMath.Score(query, kv.Value))).ToList();
            expected.Sort(Neighbor.Compare);
            Assert.Equal(expected.Take(7).Select(e => e.Id), index.SearchExact(query, 7).Select(n => n.Id));
        }
    }

    [Fact]
    public void the_inverted_lists_stay_current_through_upserts_and_removals_after_training()
    {
        var random = new Random(5);
        var index = new VectorIndex(16, new IvfOptions(MinVectors: 500));
        for (var i = 0; i < 1000; i++) index.Upsert("e" + i, Unit(random, 16));
        Assert.True(index.MaintainApproximate());
        for (var i = 0; i < 600; i++)
        {
            if (i % 3 == 0) index.Remove("e" + i);
            else index.Upsert("e" + i, Unit(random, 16));
        }
        for (var q = 0; q < 30; q++)
        {
            var query = Unit(random, 16);
            // Probing every list is exhaustive, so it must be the exact answer.
            Assert.Equal(index.SearchExact(query, 10), index.Search(query, 10, probeFraction: 1.0));
        }
    }

    [Fact]
    public void a_filter_keeps_only_accepted_ids_and_a_selective_one_falls_back_to_exact_search()
    {
        var random = new Random(9);
        var index = new VectorIndex(16, new IvfOptions(MinVectors: 500, ProbeFraction: 0.05));
        for (var i = 0; i < 2000; i++) index.Upsert("e" + i, Unit(random, 16));
        index.MaintainApproximate();
        var query = Unit(random, 16);
        static bool Rare(string id) => id.EndsWith("7", StringComparison.Ordinal) && id.Length == 4;
        var found = index.Search(query, 10, Rare);
        Assert.All(found, n => Assert.True(Rare(n.Id)));
        Assert.Equal(index.SearchExact(query, 10, Rare), found);
    }

    [Fact]
    public void ivf_recall_at_10_is_at_least_95_percent_on_100000_random_128_dimension_vectors()
    {
        var random = new Random(42);
        var index = new VectorIndex(128, capacity: 100_000);
        for (var i = 0; i < 100_000; i++) index.Upsert("v" + i, Unit(random, 128));
        Assert.True(index.MaintainApproximate());
        var found = 0;
        const int queries = 50;
        for (var q = 0; q < queries; q++)
        {
            var query = Unit(random, 128);
            var exact = index.SearchExact(query, 10).Select(n => n.Id).ToHashSet();
            found += index.Search(query, 10).Count(n => exact.Contains(n.Id));
        }
        var recall = found / (double)(queries * 10);
        Assert.True(recall >= 0.95, $"recall@10 was {recall:0.000}");
    }

    private static float[] Unit(Random random, int dimensions)
    {
        var v = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
            v[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        Assert.Null(VectorMath.TryPrepare(VectorMetric.Cosine, v));
        return v;
    }
}
