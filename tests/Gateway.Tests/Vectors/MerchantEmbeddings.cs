// The vector specs' oracle for the sample `merchant_embeddings` view: the merchant rows the tests wrote, brute-force
// cosine top k over the rows an offset commits, random 4-dimension vectors, and waiting until the view is readable.
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Vectors;

internal static class MerchantEmbeddings
{
    public const string View = "merchant_embeddings";

    /// <summary>One acknowledged merchant event: an upsert of its vector and category, or a delete.</summary>
    public sealed record Written(long Offset, string Id, bool Delete, float[] Vector, string Category);

    /// <summary>The top k by cosine over each merchant's row as of offset <paramref name="upTo"/>: its latest event
    /// up to there, if an upsert, in the category when one is named.</summary>
    public static List<(string Id, float Score)> BruteForce(IEnumerable<Written> log, long upTo, float[] query, string? category, int k) =>
        log.Where(e => e.Offset <= upTo).GroupBy(e => e.Id).Select(g => g.MaxBy(e => e.Offset)!)
            .Where(e => !e.Delete && (category is null || e.Category == category))
            .Select(e => (e.Id, Score: Cosine(query, e.Vector)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal).Take(k).ToList();

    /// <summary>Writes the rows as one batch (a delete or an upsert of the vector and category each) and returns them
    /// with the offsets the node acknowledged.</summary>
    public static async Task<IReadOnlyList<Written>> WriteAsync(NodeProcess node, IReadOnlyList<Written> batch)
    {
        var events = batch.Select(e => e.Delete
            ? (object)new { type = "merchant", id = e.Id, kind = "delete" }
            : new { type = "merchant", id = e.Id, kind = "upsert", data = new { embedding = e.Vector, category = e.Category } }).ToArray();
        var (status, body, _) = await node.PostJson("v1/events", NodeClient.Events(events));
        Assert.True(status == 200, $"write answered {status}: {body}");
        var offsets = body.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64()).ToList();
        return batch.Select((e, i) => e with { Offset = offsets[i] }).ToList();
    }

    public static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return (float)(dot / Math.Sqrt(na * nb));
    }

    public static float[] RandomVector(Random random) =>
        Enumerable.Range(0, 4).Select(_ => (float)Math.Round(random.NextDouble() * 2 - 1, 3) + 0.001f).ToArray();

    public static async Task WaitReadableAsync(NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (status, body) = await node.GetJson($"v1/views/{View}");
            if (status == 200 && body.GetProperty("readable").GetBoolean()) return;
            Assert.True(DateTime.UtcNow < deadline, $"{View} did not become readable within 60 s: {status} {body}");
            await Task.Delay(50);
        }
    }
}
