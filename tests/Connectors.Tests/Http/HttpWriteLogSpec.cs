// The HTTP write log's promises, on SQLite and PostgreSQL: offsets are gap-free and unique under
// concurrent writers, a batch answers only once every partition it touches has it (its watermark is then
// reported, so an epoch commits it), idempotency keys hold within a batch and across restarts (snapshots
// included, and the one it takes when quiet), and offsets continue where they stopped; with several write
// streams, each has offsets and keys of its own.
using System.Text.Json;
using Akka.Actor;
using ContextLake.Connectors.Http;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using ContextLake.Views.Catalog;
using ContextLake.Platform.State;
using ContextLake.Views.Hosting;
using ContextLake.Views.Projection;
using Xunit;

namespace ContextLake.Connectors.Tests.Http;

public abstract class HttpWriteLogSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private int Partitions { get; } = StateOptions.DefaultPartitions(provider);
    private Task<TestHost> Start(int snapshotEvery = 100_000, TimeSpan? snapshotWhenIdle = null, int streams = 1)
    {
        var options = new NodeOptions
        {
            Journal = Journal.Options, Writes = { SnapshotEvery = snapshotEvery, Streams = streams }, State = { Partitions = Partitions },
        };
        if (snapshotWhenIdle is { } idle) options.Writes.SnapshotWhenIdle = idle;
        var catalog = new ViewCatalog();
        var projections = new ViewProjections(catalog, options.State.Partitions);
        return TestHost.StartAsync(options,
            (akka, clock, local) => akka.WithContextLakeViews(options, catalog, clock, projections, local).WithHttpWriteStreams(options, clock, new WriteStreams(streams)),
            projections, projections);
    }

    private static PendingWrite Write(string id, string? key = null, EventKind kind = EventKind.Event) =>
        new("transfer", id, kind, DateTimeOffset.UtcNow, JsonDocument.Parse("""{"amount": 1}""").RootElement, key);

    private static Task<WritesAppended> Append(TestHost host, params PendingWrite[] writes) => AppendTo(host, 0, writes);

    private static Task<WritesAppended> AppendTo(TestHost host, int stream, params PendingWrite[] writes) =>
        host.Get<WriteStreamRegion>().Ask<WritesAppended>(new AppendWrites(WriteStreams.Id(stream), writes), Timeout);

    /// <summary>Reads an entity at the first epoch that commits <paramref name="offset"/> of <paramref name="stream"/>: an answered write's watermark is reported.</summary>
    private async Task<EntityReadResult> Read(TestHost host, string type, string id, long offset, string stream = WriteStreams.Single)
    {
        var epoch = await host.Clock.WaitAsync(e => e.Covers(stream, offset), Timeout, CancellationToken.None);
        var key = new EntityKey(type, id);
        var reply = await host.Get<EntityRegion>().Ask<EntityReads>(
            new ReadEntities(KeyGroups.Id(KeyGroups.PartitionOf(key.ToString(), Partitions)), epoch.N, [key]), Timeout);
        return reply.Results[0];
    }

    [Fact]
    public async Task concurrent_batches_get_unique_gap_free_offsets_and_are_applied_when_answered()
    {
        await using var host = await Start();
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(b =>
            Append(host, Enumerable.Range(0, 5).Select(i => Write($"t{b % 8}")).ToArray())));

        var offsets = answers.SelectMany(a => a.Offsets).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), offsets);
        foreach (var a in answers)
            Assert.Equal(Enumerable.Range((int)a.First, 5).Select(i => (long)i), a.Offsets);

        // Answered means applied: the entities already hold every event.
        long total = 0;
        for (var t = 0; t < 8; t++) total += (await Read(host, "transfer", $"t{t}", 200)).EventCount;
        Assert.Equal(200, total);
    }

    [Fact]
    public async Task a_repeated_idempotency_key_returns_the_first_position_and_writes_nothing()
    {
        await using var host = await Start();
        var first = await Append(host, Write("x", "k1"), Write("x", "k1"), Write("x", "k2"));
        Assert.Equal([1L, 1L, 2L], first.Offsets);
        Assert.Equal(2, first.Written);

        var again = await Append(host, Write("x", "k2"), Write("x", "k3"));
        Assert.Equal([2L, 3L], again.Offsets);
        Assert.Equal(1, again.Written);
        Assert.Equal(3, (await Read(host, "transfer", "x", 3)).EventCount);
    }

    [Fact]
    public async Task keys_and_offsets_survive_restarts_with_and_without_snapshots()
    {
        await using (var host = await Start(snapshotEvery: 3))
        {
            for (var i = 1; i <= 7; i++) await Append(host, Write("y", $"key-{i}"));
        }

        await using (var host = await Start(snapshotEvery: 3))
        {
            var replay = await Append(host, Write("y", "key-2"), Write("y", "key-7"), Write("y", "key-8"));
            Assert.Equal([2L, 7L, 8L], replay.Offsets);
            Assert.Equal(1, replay.Written);
            var position = await host.Get<WriteStreamRegion>().Ask<WriteLogPosition>(new GetWriteLogPosition(WriteStreams.Id(0)), Timeout);
            Assert.Equal(new WriteLogPosition(WriteStreams.Single, 8, 8), position);
            Assert.Equal(8, (await Read(host, "transfer", "y", 8)).EventCount);
        }
    }

    [Fact]
    public async Task a_quiet_write_log_snapshots_what_it_journaled_so_a_restart_replays_nothing()
    {
        const string log = "stream-" + WriteStreams.Single;
        await using (var host = await Start(snapshotEvery: 1_000_000, snapshotWhenIdle: TimeSpan.FromMilliseconds(300)))
        {
            for (var i = 1; i <= 5; i++) await Append(host, Write("z", $"quiet-{i}"), Write("z"));
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (await Journal.SequenceAsync("snapshot", log) < await Journal.SequenceAsync("journal", log))
            {
                Assert.True(DateTime.UtcNow < deadline, "the write log did not snapshot while quiet");
                await Task.Delay(100);
            }
        }

        await using (var host = await Start(snapshotEvery: 1_000_000, snapshotWhenIdle: TimeSpan.Zero))
        {
            // The snapshot alone carries the keys and the next offset.
            var replay = await Append(host, Write("z", "quiet-3"), Write("z", "quiet-6"));
            Assert.Equal([5L, 11L], replay.Offsets);
            Assert.Equal(1, replay.Written);
            Assert.Equal(11, (await Read(host, "transfer", "z", 11)).EventCount);
        }
    }

    [Fact]
    public async Task several_streams_each_number_their_own_offsets_and_remember_their_own_keys()
    {
        await using var host = await Start(streams: 4);
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).SelectMany(s => Enumerable.Range(0, 5).Select(b =>
            AppendTo(host, s, Write($"s{s}"), Write($"s{s}")))));
        for (var s = 0; s < 4; s++)
        {
            var name = WriteStreams.Name(s, 4);
            Assert.Equal($"http:writes/{s}", name);
            var mine = answers.Where(a => a.Stream == name).ToList();
            Assert.Equal(5, mine.Count);
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), mine.SelectMany(a => a.Offsets).Order());
            Assert.Equal(10, (await Read(host, "transfer", $"s{s}", 10, name)).EventCount);
        }

        // A key is remembered by the stream that took it, not by the others.
        var first = await AppendTo(host, 1, Write("k", "shared-key"));
        Assert.Equal(1, first.Written);
        Assert.Equal(first.Offsets, (await AppendTo(host, 1, Write("k", "shared-key"))).Offsets);
        Assert.Equal(0, (await AppendTo(host, 1, Write("k", "shared-key"))).Written);
        Assert.Equal(1, (await AppendTo(host, 2, Write("k", "shared-key"))).Written);

    }
}

public sealed class SqliteHttpWriteLogSpec() : HttpWriteLogSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlHttpWriteLogSpec() : HttpWriteLogSpec(JournalProvider.PostgreSql);
