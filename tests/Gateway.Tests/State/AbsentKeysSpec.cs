// Nothing is kept per absent key: decision reads of 200,000 distinct keys never written (100,000 entities and
// 100,000 view keys, a thousand per read) answer the empty values at their epoch (exists = false, no events;
// n = 0, total = 0), add no row to the journal, and leave the node's resident memory within 50 MB of where it
// was before them (with workstation GC, so that memory follows what the node keeps: 500 bytes kept per key would
// be 100 MB).
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.State;

public sealed class AbsentKeysSpec(ITestOutputHelper output) : JournalLifetime(JournalProvider.Sqlite)
{
    private const int Keys = 100_000;
    private const int PerRead = 1000;
    private const long MemoryBound = 50L * 1024 * 1024;

    /// <summary>
    /// A node for counting what absent keys cost, with 50 transfers written so that the reads go to live partitions with
    /// state of their own; answers the write's last offset. Workstation GC: resident memory then follows what the node
    /// keeps, not server GC's budget of uncollected garbage (with server GC it rose by about 50 MB over 800,000 absent
    /// keys, and fell back at the next full collection).
    /// </summary>
    public static async Task<(NodeProcess Node, long Last)> StartWithSomeStateAsync(TestJournal journal)
    {
        var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(journal.Environment) { ["DOTNET_gcServer"] = "0" });
        await Bank.WaitForViewsAsync(node);
        var (status, written, _) = await node.PostJson("v1/events", NodeClient.Events(Enumerable.Range(0, 50).Select(i => Bank.Transfer(new Random(i))).ToArray()));
        Assert.True(status == 200, $"{status} {written}");
        return (node, written.GetProperty("last").GetInt64());
    }

    [Fact]
    public async Task reading_a_hundred_thousand_absent_entities_and_view_keys_creates_no_journal_rows_and_no_memory_per_key()
    {
        var (node, last) = await StartWithSomeStateAsync(Journal);
        await using var _ = node;
        await Read(node, "warm", 0, after: $"http:writes@{last}");

        // Let whatever the write started (journal rows, snapshots) settle before counting.
        var rows = await SettledJournalRowsAsync(Journal);
        var baseline = node.ResidentBytes;
        var peak = baseline;
        for (var start = 0; start < Keys; start += PerRead / 2)
        {
            await Read(node, "absent", start);
            peak = Math.Max(peak, node.ResidentBytes);
        }
        await Task.Delay(1000);
        peak = Math.Max(peak, node.ResidentBytes);
        var after = await JournalTransfers.JournalRowsAsync(Journal);

        output.WriteLine($"journal rows {rows} before, {after} after; resident {baseline / 1048576} MB before, at most {peak / 1048576} MB during {2 * Keys} absent keys");
        Assert.True(after == rows, $"reading absent keys added {after - rows} journal rows");
        Assert.True(peak - baseline <= MemoryBound,
            $"the node grew by {(peak - baseline) / 1048576} MB reading {2 * Keys} absent keys (bound {MemoryBound / 1048576} MB)");
    }

    /// <summary>
    /// One decision read of <see cref="PerRead"/> / 2 entities "transfer/{prefix}-i" and as many credits keys "{prefix}-i",
    /// i from <paramref name="start"/>; every answer is the empty value at the answer's epoch.
    /// </summary>
    private static async Task Read(NodeProcess node, string prefix, int start, string? after = null)
    {
        var reads = Enumerable.Range(start, PerRead / 2).SelectMany(i => new object[]
        {
            new { entity = $"transfer/{prefix}-{i}" },
            new { view = "credits", key = $"{prefix}-{i}" },
        }).ToArray();
        var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { reads, after = after is null ? [] : new[] { after } }));
        Assert.True(status == 200, $"read of {prefix}-{start}… answered {status}: {answer}");
        Assert.True(answer.GetProperty("epoch").GetProperty("n").GetInt64() > 0, $"answered before any epoch: {answer.GetProperty("epoch")}");
        foreach (var r in answer.GetProperty("results").EnumerateArray())
        {
            if (r.TryGetProperty("entity", out var entity))
            {
                Assert.False(r.GetProperty("exists").GetBoolean(), $"{entity} exists: {r}");
                Assert.Equal(0, r.GetProperty("events").GetProperty("count").GetInt64());
                Assert.Empty(r.GetProperty("state").EnumerateObject());
            }
            else
            {
                var values = r.GetProperty("values");
                Assert.True(values.GetProperty("n").GetInt64() == 0 && values.GetProperty("total").GetDecimal() == 0, $"{r.GetProperty("key")}: {values}");
            }
        }
    }

    /// <summary>The journal's row count once it has not changed for a second (bounded: 30 s).</summary>
    public static async Task<long> SettledJournalRowsAsync(TestJournal journal)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var rows = await JournalTransfers.JournalRowsAsync(journal);
        while (true)
        {
            await Task.Delay(1000);
            var now = await JournalTransfers.JournalRowsAsync(journal);
            if (now == rows) return rows;
            Assert.True(DateTime.UtcNow < deadline, $"the journal kept growing for 30 s after one write ({rows} → {now} rows)");
            rows = now;
        }
    }
}
