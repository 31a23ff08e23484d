// Vector views over real HTTP on a node, using the sample domain's merchant_embeddings view (4 dimensions,
// cosine): similarity reads at an epoch agree with a brute-force search over exactly the vectors that
// epoch commits, while writers upsert and delete concurrently; bad similarity reads are refused naming the fault.
using System.Collections.Concurrent;
using System.Text.Json;
using Xunit;

using static ContextLake.Gateway.Tests.Vectors.MerchantEmbeddings;

namespace ContextLake.Gateway.Tests.Vectors;

public sealed class VectorViewSpecs(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{

    private sealed record Observed(long EpochOffset, float[] Query, string? Where, bool Exact, List<(string Id, float Score)> Hits);

    [Fact]
    public async Task similarity_reads_at_an_epoch_agree_with_brute_force_over_exactly_the_committed_vectors_under_concurrent_upserts_and_deletes()
    {
        var node = fixture.Node;
        await WaitReadableAsync(node);
        var written = new ConcurrentBag<Written>();
        var observed = new ConcurrentBag<Observed>();
        var writersDone = false;

        // Each writer owns its merchants, so one merchant's events are ordered by offset and by time alike.
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var random = new Random(100 + w);
            for (var b = 0; b < 40; b++)
            {
                var batch = Enumerable.Range(0, 20).Select(i => $"m{w}-{i}").OrderBy(_ => random.Next()).Take(1 + random.Next(4))
                    .Select(id => new Written(0, id, random.NextDouble() < 0.2, RandomVector(random), random.Next(2) == 0 ? "a" : "b")).ToList();
                foreach (var e in await WriteAsync(node, batch)) written.Add(e);
            }
        })).ToList();

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var random = new Random(200 + r);
            var mine = 0;
            while (!Volatile.Read(ref writersDone) || mine < 30)
            {
                var query = RandomVector(random);
                var reads = new object[]
                {
                    new { similar = View, vector = query, k = 5, exact = true },
                    new { similar = View, vector = query, k = 5 },
                    new { similar = View, vector = query, k = 3, where = "category = 'a'" },
                };
                var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { reads }));
                Assert.True(status == 200, $"read answered {status}: {answer}");
                var at = answer.GetProperty("epoch").GetProperty("vector").TryGetProperty("http:writes", out var o) ? o.GetInt64() : 0;
                var results = answer.GetProperty("results").EnumerateArray().ToList();
                observed.Add(new Observed(at, query, null, true, Hits(results[0])));
                observed.Add(new Observed(at, query, null, false, Hits(results[1])));
                observed.Add(new Observed(at, query, "a", false, Hits(results[2])));
                mine++;
            }
        })).ToList();

        await Task.WhenAll(writers);
        Volatile.Write(ref writersDone, true);
        await Task.WhenAll(readers);

        var log = written.OrderBy(e => e.Offset).ToList();
        Assert.True(observed.Select(x => x.EpochOffset).Distinct().Count() > 3, "the reads should have seen several epochs");
        foreach (var read in observed)
        {
            var expected = BruteForce(log, read.EpochOffset, read.Query, read.Where, read.Where is null ? 5 : 3);
            Assert.True(expected.Select(e => e.Id).SequenceEqual(read.Hits.Select(h => h.Id)),
                $"at http:writes@{read.EpochOffset} (exact={read.Exact}, where={read.Where}) expected [{string.Join(", ", expected)}] but read [{string.Join(", ", read.Hits)}]");
            // A tolerance, not rounding to 3 places: two values 1e-7 apart can round to different thousandths.
            for (var i = 0; i < expected.Count; i++)
                Assert.True(Math.Abs(expected[i].Score - read.Hits[i].Score) < 1e-4, $"score of {expected[i].Id}: expected {expected[i].Score}, read {read.Hits[i].Score}");
        }
    }

    [Fact]
    public async Task bad_similarity_reads_are_refused_naming_the_fault()
    {
        var node = fixture.Node;
        await WaitReadableAsync(node);
        async Task<string> Refused(int expected, object read)
        {
            var (status, body, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { reads = new[] { read } }));
            Assert.True(status == expected, $"expected {expected}, got {status}: {body}");
            return body.GetProperty("detail").GetString()!;
        }

        Assert.Contains("reads[0].vector has 3 numbers, the view's vectors have 4", await Refused(400, new { similar = View, vector = new[] { 1, 2, 3 }, k = 5 }));
        Assert.Contains("reads[0].k 0 is out of range", await Refused(400, new { similar = View, vector = new[] { 1, 2, 3, 4 }, k = 0 }));
        Assert.Contains("reads[0].k 1001 is out of range", await Refused(400, new { similar = View, vector = new[] { 1, 2, 3, 4 }, k = 1001 }));
        Assert.Contains("there is no view named 'nope'", await Refused(404, new { similar = "nope", vector = new[] { 1, 2, 3, 4 } }));
        Assert.Contains("view credits is not a vector view", await Refused(400, new { similar = "credits", vector = new[] { 1, 2, 3, 4 } }));
        Assert.Contains("a zero vector", await Refused(400, new { similar = View, vector = new[] { 0, 0, 0, 0 } }));
        Assert.Contains("reads[0].vector item 2 is not a number", await Refused(400, new { similar = View, vector = new object[] { 1, 2, "x", 4 } }));
        Assert.Contains("reads[0].where: line 1, column 1: unknown column 'colour' on merchant", await Refused(400, new { similar = View, vector = new[] { 1, 2, 3, 4 }, where = "colour = 'red'" }));
        Assert.Contains("reads[0].where: line 1, column 12: expected", await Refused(400, new { similar = View, vector = new[] { 1, 2, 3, 4 }, where = "category = = 'a'" }));
    }

    private static List<(string Id, float Score)> Hits(JsonElement result) =>
        result.GetProperty("neighbors").EnumerateArray().Select(h => (h.GetProperty("id").GetString()!, h.GetProperty("score").GetSingle())).ToList();
}
