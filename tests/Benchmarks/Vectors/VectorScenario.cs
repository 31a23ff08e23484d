// k-nearest-neighbour numbers for vector views on this machine, in process on one VectorIndex (one
// partition's index), over two kinds of 128-dimension unit vectors: uniformly random (no structure, the
// worst case for any partitioning index) and clustered (a Gaussian mixture, as real embeddings are). For
// each: load and IVF training time, exact (SIMD scan) latency, the probes IVF needs for recall@10 >= 0.95
// and its latency there, and recall and latency at the default probes.
using System.Diagnostics;
using System.Text;
using ContextLake.Views.Vectors;

namespace ContextLake.Benchmarks.Vectors;

public static class VectorScenario
{
    private const int Dimensions = 128;
    private const int K = 10;
    private const double TargetRecall = 0.95;
    private const int Centres = 300;
    private const double Spread = 0.1;

    public static Task<string> RunAsync(bool quick) => Task.Run(() => Run(quick));

    private static string Run(bool quick)
    {
        var report = new StringBuilder();
        report.AppendLine($"## Vector views: k-NN search (k = {K}, {Dimensions} dimensions, cosine)");
        report.AppendLine();
        report.AppendLine($"One partition's index in process, {Environment.ProcessorCount} cores. Exact = SIMD dot product with every vector (TensorPrimitives).");
        report.AppendLine("IVF = √n k-means lists, each list's vectors in one contiguous block. *random*: uniformly random unit vectors;");
        report.AppendLine($"*clustered*: a mixture of {Centres} Gaussian clusters (random unit centres, σ = {Spread} per component, then normalised), queries from the same mixture.");
        report.AppendLine($"*probes for {TargetRecall:0.00}*: fewest lists a query must scan for recall@10 ≥ {TargetRecall:0.00} (recall = share of the exact top 10 returned);");
        report.AppendLine($"IVF latency at those probes, and recall and latency at the default, {IvfOptions.DefaultProbes} probes.");
        report.AppendLine();
        report.AppendLine($"| data | vectors | lists | load s | train s | queries | exact p50 ms | exact p99 ms | probes for {TargetRecall:0.00} | IVF p50 ms | IVF p99 ms | recall | speed-up p50 | recall at {IvfOptions.DefaultProbes} | p50 ms at {IvfOptions.DefaultProbes} |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var n in quick ? new[] { 100_000 } : new[] { 100_000, 1_000_000 })
        {
            foreach (var clustered in new[] { false, true })
            {
                var m = Measure(n, queries: quick || n > 100_000 ? 30 : 200, seed: 42, clustered);
                report.AppendLine($"| {(clustered ? "clustered" : "random")} | {n:N0} | {m.Lists} | {m.LoadSeconds:0.00} | {m.TrainSeconds:0.00} | {m.Queries} | {m.ExactP50:0.00} | {m.ExactP99:0.00} | {m.Probes} ({m.Probes / (double)m.Lists:P1}) | {m.ApproxP50:0.00} | {m.ApproxP99:0.00} | {m.Recall:0.000} | {m.ExactP50 / m.ApproxP50:0.0}× | {m.DefaultRecall:0.000} | {m.DefaultP50:0.00} |");
            }
        }
        report.AppendLine();
        report.AppendLine("Where IVF wins: clustered vectors (as real embeddings are). A query's neighbours sit in the few lists nearest to it,");
        report.AppendLine("so IVF scans a small share of the vectors for the same answers, orders of magnitude faster than the exact scan.");
        report.AppendLine("Where it can't: uniformly random vectors have no structure to exploit. Neighbours are spread over most lists, so");
        report.AppendLine("recall@10 >= 0.95 needs a large share of them, IVF still scans most of the vectors and gains little over the exact scan");
        report.AppendLine("(and the default probes miss most neighbours). For such data exact search is the honest choice.");
        report.AppendLine();
        return report.ToString();
    }

    public sealed record Figures(
        int Lists, double LoadSeconds, double TrainSeconds, int Queries, double ExactP50, double ExactP99,
        int Probes, double ApproxP50, double ApproxP99, double Recall, double DefaultRecall, double DefaultP50);

    public static Figures Measure(int n, int queries, int seed, bool clustered)
    {
        var random = new Random(seed);
        var centres = new float[Centres][];
        for (var c = 0; c < Centres; c++) RandomUnit(random, centres[c] = new float[Dimensions]);
        void Draw(Span<float> v)
        {
            if (!clustered)
            {
                RandomUnit(random, v);
                return;
            }
            var centre = centres[random.Next(Centres)];
            for (var i = 0; i < v.Length; i++) v[i] = centre[i] + (float)(Spread * Gaussian(random));
            VectorMath.TryPrepare(VectorMetric.Cosine, v);
        }

        var index = new VectorIndex(Dimensions, capacity: n);
        var vector = new float[Dimensions];
        var load = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            Draw(vector);
            index.Upsert("v" + i, vector);
        }
        load.Stop();
        var train = Stopwatch.StartNew();
        index.BuildApproximate();
        train.Stop();

        // One exact search per query gives the recall of every probe count: a true neighbour is found by any
        // search probing at least as many lists as it takes to reach the neighbour's list.
        var qs = new float[queries][];
        var exact = new List<HashSet<string>>();
        var exactMs = new List<double>();
        var reach = new List<int>();
        for (var q = 0; q < queries; q++)
        {
            Draw(qs[q] = new float[Dimensions]);
            var t = Stopwatch.StartNew();
            var top = index.SearchExact(qs[q], K);
            exactMs.Add(t.Elapsed.TotalMilliseconds);
            exact.Add(top.Select(e => e.Id).ToHashSet());
            reach.AddRange(top.Select(e => index.ProbesToReach(qs[q], e.Id)));
        }
        reach.Sort();
        var probes = reach[(int)Math.Ceiling(TargetRecall * reach.Count) - 1];

        var (recall, approxMs) = Approximate(index, qs, exact, probes);
        var (defaultRecall, defaultMs) = Approximate(index, qs, exact, IvfOptions.DefaultProbes);
        return new Figures(index.ListCount, load.Elapsed.TotalSeconds, train.Elapsed.TotalSeconds, queries, P(exactMs, 50), P(exactMs, 99),
            probes, P(approxMs, 50), P(approxMs, 99), recall, defaultRecall, P(defaultMs, 50));
    }

    private static (double Recall, List<double> Ms) Approximate(VectorIndex index, float[][] queries, List<HashSet<string>> exact, int probes)
    {
        var ms = new List<double>();
        var found = 0;
        for (var q = 0; q < queries.Length; q++)
        {
            var t = Stopwatch.StartNew();
            var approx = index.Search(queries[q], K, probes: probes);
            ms.Add(t.Elapsed.TotalMilliseconds);
            found += approx.Count(a => exact[q].Contains(a.Id));
        }
        return (found / (double)(queries.Length * K), ms);
    }

    /// <summary>A uniformly random direction: Gaussian components, normalised.</summary>
    public static void RandomUnit(Random random, Span<float> vector)
    {
        for (var i = 0; i < vector.Length; i++) vector[i] = (float)Gaussian(random);
        VectorMath.TryPrepare(VectorMetric.Cosine, vector);
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double P(List<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1)];
    }
}
