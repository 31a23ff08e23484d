// The vector index against brute force: exact search is exactly the top k; the IVF index stays correct
// through upserts and removals (also those made while it trains on another thread), and reaches
// recall@10 >= 0.95 on 100,000 random 128-dimension vectors probing most lists, and on clustered
// vectors with the default probes.
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
            Assert.Equal(index.SearchExact(query, 10), index.Search(query, 10, probes: int.MaxValue));
        }
    }

    [Fact]
    public async Task changes_made_while_the_lists_train_on_another_thread_are_in_the_installed_lists()
    {
        var random = new Random(6);
        var index = new VectorIndex(16, new IvfOptions(MinVectors: 500));
        for (var i = 0; i < 1000; i++) index.Upsert("e" + i, Unit(random, 16));
        Assert.True(index.TrainingDue);
        var training = index.StartTraining();
        Assert.False(index.TrainingDue);
        var running = Task.Run(training.Run);
        for (var i = 0; i < 600; i++)
        {
            if (i % 3 == 0) index.Remove("e" + i);
            else index.Upsert(i % 3 == 1 ? "e" + i : "new" + i, Unit(random, 16));
        }
        Assert.False(index.IsApproximate);
        Assert.True(index.Install(await running));
        Assert.True(index.IsApproximate);
        for (var q = 0; q < 30; q++)
        {
            var query = Unit(random, 16);
            Assert.Equal(index.SearchExact(query, 10), index.Search(query, 10, probes: int.MaxValue));
        }
    }

    [Fact]
    public void a_training_superseded_by_dropping_below_the_minimum_is_not_installed()
    {
        var random = new Random(8);
        var index = new VectorIndex(8, new IvfOptions(MinVectors: 100));
        for (var i = 0; i < 100; i++) index.Upsert("e" + i, Unit(random, 8));
        var training = index.StartTraining().Run();
        index.Remove("e0");
        Assert.False(index.Install(training));
        Assert.False(index.IsApproximate);
    }

    [Fact]
    public void a_filter_keeps_only_accepted_ids_and_a_selective_one_falls_back_to_exact_search()
    {
        var random = new Random(9);
        var index = new VectorIndex(16, new IvfOptions(MinVectors: 500, Probes: 2));
        for (var i = 0; i < 2000; i++) index.Upsert("e" + i, Unit(random, 16));
        index.MaintainApproximate();
        var query = Unit(random, 16);
        static bool Rare(string id) => id.EndsWith("7", StringComparison.Ordinal) && id.Length == 4;
        var found = index.Search(query, 10, Rare);
        Assert.All(found, n => Assert.True(Rare(n.Id)));
        Assert.Equal(index.SearchExact(query, 10, Rare), found);
    }

    [Fact]
    public void ivf_recall_at_10_is_at_least_95_percent_on_100000_random_128_dimension_vectors_probing_80_percent_of_the_lists()
    {
        var random = new Random(42);
        var index = new VectorIndex(128, capacity: 100_000);
        for (var i = 0; i < 100_000; i++) index.Upsert("v" + i, Unit(random, 128));
        Assert.True(index.MaintainApproximate());
        var recall = Recall(index, () => Unit(random, 128), (int)Math.Ceiling(0.8 * index.ListCount));
        Assert.True(recall >= 0.95, $"recall@10 was {recall:0.000}");
    }

    [Fact]
    public void ivf_recall_at_10_is_at_least_95_percent_with_the_default_probes_on_50000_clustered_128_dimension_vectors()
    {
        var random = new Random(43);
        var centres = Enumerable.Range(0, 200).Select(_ => Unit(random, 128)).ToArray();
        float[] Clustered()
        {
            var centre = centres[random.Next(centres.Length)];
            var v = Unit(random, 128);
            // A random unit direction times 0.1·√128: about the benchmark's σ = 0.1 per component.
            for (var i = 0; i < v.Length; i++) v[i] = centre[i] + v[i] * 0.1f * MathF.Sqrt(128);
            Assert.Null(VectorMath.TryPrepare(VectorMetric.Cosine, v));
            return v;
        }
        var index = new VectorIndex(128, capacity: 50_000);
        for (var i = 0; i < 50_000; i++) index.Upsert("v" + i, Clustered());
        Assert.True(index.MaintainApproximate());
        var recall = Recall(index, Clustered, probes: null);
        Assert.True(recall >= 0.95, $"recall@10 was {recall:0.000}");
    }

    private static double Recall(VectorIndex index, Func<float[]> draw, int? probes)
    {
        var found = 0;
        const int queries = 50;
        for (var q = 0; q < queries; q++)
        {
            var query = draw();
            var exact = index.SearchExact(query, 10).Select(n => n.Id).ToHashSet();
            found += index.Search(query, 10, probes: probes).Count(n => exact.Contains(n.Id));
        }
        return found / (double)(queries * 10);
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
