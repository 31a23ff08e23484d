// k-nearest-neighbour numbers for vector views on this machine: exact (SIMD scan) and approximate (IVF)
// search over random 128-dimension unit vectors, with the approximate index's recall@10 against exact
// search, and how long loading and training take. In-process on one VectorIndex (one partition's index).
using System.Diagnostics;
using System.Text;
using ContextLake.Views.Vectors;

namespace ContextLake.Benchmarks.Vectors;

public static class VectorScenario
{
    private const int Dimensions = 128;
    private const int K = 10;

    public static Task<string> RunAsync(bool quick) => Task.Run(() => Run(quick));

    private static string Run(bool quick)
    {
        var report = new StringBuilder();
        report.AppendLine("## Vector views: k-NN search (k = 10, 128 dimensions, cosine, random unit vectors)");
        report.AppendLine();
        report.AppendLine($"One partition's index in process, {Environment.ProcessorCount} cores. Exact = SIMD dot product with every vector (TensorPrimitives);");
        report.AppendLine($"approximate = IVF (√n lists, {IvfOptions.Default.ProbeFraction:P0} of them probed). Recall@10 = share of the exact top 10 the approximate search returns.");
        report.AppendLine();
        report.AppendLine("| vectors | load s | IVF train s | queries | exact p50 ms | exact p99 ms | IVF p50 ms | IVF p99 ms | recall@10 |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var n in quick ? new[] { 100_000 } : new[] { 100_000, 1_000_000 })
        {
            var m = Measure(n, queries: quick ? 50 : 200, seed: 42);
            report.AppendLine($"| {n:N0} | {m.LoadSeconds:0.00} | {m.TrainSeconds:0.00} | {m.Queries} | {m.ExactP50:0.00} | {m.ExactP99:0.00} | {m.ApproxP50:0.00} | {m.ApproxP99:0.00} | {m.Recall:0.000} |");
        }
        report.AppendLine();
        return report.ToString();
    }

    public sealed record Figures(double LoadSeconds, double TrainSeconds, int Queries, double ExactP50, double ExactP99, double ApproxP50, double ApproxP99, double Recall);

    public static Figures Measure(int n, int queries, int seed, IvfOptions? options = null)
    {
        var random = new Random(seed);
        var index = new VectorIndex(Dimensions, options, capacity: n);
        var vector = new float[Dimensions];
        var load = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            RandomUnit(random, vector);
            index.Upsert("v" + i, vector);
        }
        load.Stop();
        var train = Stopwatch.StartNew();
        index.BuildApproximate();
        train.Stop();

        var exactMs = new List<double>();
        var approxMs = new List<double>();
        var found = 0;
        for (var q = 0; q < queries; q++)
        {
            var query = new float[Dimensions];
            RandomUnit(random, query);
            var t = Stopwatch.StartNew();
            var exact = index.SearchExact(query, K);
            exactMs.Add(t.Elapsed.TotalMilliseconds);
            t.Restart();
            var approx = index.Search(query, K);
            approxMs.Add(t.Elapsed.TotalMilliseconds);
            found += approx.Select(a => a.Id).Intersect(exact.Select(e => e.Id)).Count();
        }
        return new Figures(load.Elapsed.TotalSeconds, train.Elapsed.TotalSeconds, queries,
            P(exactMs, 50), P(exactMs, 99), P(approxMs, 50), P(approxMs, 99), found / (double)(queries * K));
    }

    /// <summary>A uniformly random direction: Gaussian components (Box–Muller), normalised.</summary>
    public static void RandomUnit(Random random, Span<float> vector)
    {
        for (var i = 0; i < vector.Length; i++)
            vector[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        VectorMath.TryPrepare(VectorMetric.Cosine, vector);
    }

    private static double P(List<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1)];
    }
}
