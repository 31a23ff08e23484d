// One contract for the entity partitions' journal, run on SQLite and on PostgreSQL: what is journaled
// survives a restart of the actor system, a redelivered (stream, offset) changes nothing, a snapshot
// plus the journal tail recover the same state, a quiet partition snapshots its tail, and a run costs one
// journal row per partition it touches.
using System.Text.Json;
using Akka.Actor;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Ingest;
using ContextLake.Platform.State;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Platform.Tests.Journal;

public abstract class EntityPartitionJournalSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    private NodeOptions Options(int snapshotEvery = 20_000) => new()
    {
        Journal = Journal.Options,
        State = { SnapshotEvery = snapshotEvery, Partitions = 4 },
    };

    private static IngestEvent Ev(string stream, long offset, string type, string id, EventKind kind, string json) =>
        new(stream, offset, T0.AddSeconds(offset), type, id, kind, JsonDocument.Parse(json).RootElement.Clone());

    /// <summary>Applies one run of one stream through the path every source uses, and waits until an epoch commits it.</summary>
    private async Task<RunReport> ApplyAsync(TestHost host, NodeOptions options, IReadOnlyList<IngestEvent> events)
    {
        var stream = events[0].Stream;
        var upTo = events.Max(e => e.Offset);
        var report = await PlatformHosting.StreamRuns(host.Registry, options).ApplyAsync(stream, events, upTo, upTo);
        await host.Clock.WaitAsync(e => e.Covers(stream, upTo), TimeSpan.FromSeconds(30), CancellationToken.None);
        return report;
    }

    private static async Task<EntityReadResult> Read(TestHost host, NodeOptions options, string type, string id)
    {
        var key = new EntityKey(type, id);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!host.Clock.Known && DateTime.UtcNow < deadline) await Task.Delay(20);
        var n = host.Clock.Latest.N;
        var reply = await host.Get<EntityRegion>().Ask<object>(
            new ReadEntities(KeyGroups.Id(KeyGroups.PartitionOf(key.ToString(), options.State.Partitions)), n, [key]),
            TimeSpan.FromSeconds(30));
        return reply is EntityReads reads ? reads.Results[0] : throw new InvalidOperationException($"reading {key} at epoch {n} answered {reply}");
    }

    [Fact]
    public async Task journaled_events_survive_a_restart_of_the_actor_system()
    {
        var events = new List<IngestEvent>();
        for (var i = 1; i <= 300; i++)
        {
            var account = $"a{i % 30}";
            events.Add((i / 30) % 2 == 0
                ? Ev("s", i, "account", account, EventKind.Upsert, $$"""{"balance": {{i}}}""")
                : Ev("s", i, "transfer", account, EventKind.Event, $$"""{"amount": {{i}}}"""));
        }

        var options = Options();
        await using (var host = await TestHost.StartAsync(options))
        {
            var report = await ApplyAsync(host, options, events);
            Assert.Equal(300, report.Persisted);
        }

        await using (var host = await TestHost.StartAsync(options))
        {
            for (var a = 0; a < 30; a++)
            {
                var mine = events.Where(e => e.EntityId == $"a{a}").ToList();
                var account = await Read(host, options, "account", $"a{a}");
                var lastBalance = mine.Where(e => e.Kind == EventKind.Upsert).Max(e => e.Offset);
                Assert.True(account.Exists);
                Assert.Equal(lastBalance, account.State["balance"].GetInt64());

                var transfers = await Read(host, options, "transfer", $"a{a}");
                Assert.Equal(mine.Count(e => e.Kind == EventKind.Event), transfers.EventCount);
            }
        }
    }

    [Fact]
    public async Task a_run_whose_parts_are_cut_below_the_message_size_counts_every_piece()
    {
        // 4 KiB messages: a partition's part of 2,000 events travels in many pieces, each answered on its own.
        var options = Options();
        options.State.MessageBytes = 4096;
        var events = Enumerable.Range(1, 2000)
            .Select(i => Ev("kafka:big/0", i, "card", $"c{i % 50}", EventKind.Event, $$"""{"amount": {{i}}, "note": "{{new string('x', 40)}}"}"""))
            .ToList();
        await using var host = await TestHost.StartAsync(options);
        Assert.Equal(new RunReport(2000, 0), await ApplyAsync(host, options, events));
        Assert.Equal(new RunReport(0, 2000), await ApplyAsync(host, options, events));
        var counted = 0L;
        for (var c = 0; c < 50; c++) counted += (await Read(host, options, "card", $"c{c}")).EventCount;
        Assert.Equal(2000, counted);
    }

    [Fact]
    public async Task a_redelivered_stream_offset_changes_nothing_before_and_after_a_restart()
    {
        var options = Options();
        var events = Enumerable.Range(1, 10).Select(i => Ev("kafka:tx/0", i, "card", "c9", EventKind.Event, "{}")).ToList();
        await using (var host = await TestHost.StartAsync(options))
        {
            Assert.Equal(new RunReport(10, 0), await ApplyAsync(host, options, events));
            Assert.Equal(new RunReport(0, 10), await ApplyAsync(host, options, events));
            Assert.Equal(new RunReport(1, 8), await ApplyAsync(host, options,
                events.Skip(2).Append(Ev("kafka:tx/0", 11, "card", "c9", EventKind.Event, "{}")).ToList()));
            Assert.Equal(new RunReport(1, 0), await ApplyAsync(host, options, [Ev("kafka:tx/1", 1, "card", "c9", EventKind.Event, "{}")]));
        }

        await using (var host = await TestHost.StartAsync(options))
        {
            Assert.Equal(new RunReport(0, 10), await ApplyAsync(host, options, events));
            var card = await Read(host, options, "card", "c9");
            Assert.Equal(12, card.EventCount);
            Assert.Equal(11, card.Positions["kafka:tx/0"]);
        }
        // Every run with new events was one row of the card's partition; runs of duplicates wrote nothing.
        var partition = KeyGroups.PartitionOf("card/c9", options.State.Partitions);
        Assert.Equal(3, await Journal.WriterScalarAsync("COUNT(*)", "journal", $"entity-{partition}"));
    }

    [Fact]
    public async Task a_snapshot_and_the_journal_tail_recover_the_same_state()
    {
        var options = Options(snapshotEvery: 5);
        var events = Enumerable.Range(1, 23)
            .Select(i => Ev("s", i, "merchant", "m1", i % 2 == 0 ? EventKind.Upsert : EventKind.Event, $$"""{"n{{i % 4}}": {{i}}}"""))
            .ToList();
        EntityReadResult before;
        await using (var host = await TestHost.StartAsync(options))
        {
            foreach (var run in events.Chunk(3)) await ApplyAsync(host, options, run);
            before = await Read(host, options, "merchant", "m1");
        }

        var partition = KeyGroups.PartitionOf("merchant/m1", options.State.Partitions);
        Assert.True(await SnapshotRows($"entity-{partition}") >= 1, "no snapshot was saved");
        await using (var host = await TestHost.StartAsync(options))
        {
            var after = await Read(host, options, "merchant", "m1");
            Assert.Equal(JsonSerializer.Serialize(before), JsonSerializer.Serialize(after));
            Assert.Equal(12, after.EventCount);
        }
    }

    [Fact]
    public async Task a_quiet_partition_snapshots_its_whole_tail_and_none_when_turned_off()
    {
        var options = Options(snapshotEvery: 1_000_000);
        options.State.SnapshotWhenIdle = TimeSpan.FromMilliseconds(300);
        var events = Enumerable.Range(1, 40).Select(i => Ev("s", i, "merchant", $"m{i % 8}", EventKind.Upsert, $$"""{"n": {{i}}}""")).ToList();
        await using (var host = await TestHost.StartAsync(options))
        {
            foreach (var run in events.Chunk(10)) await ApplyAsync(host, options, run);
            // Every partition that took a row snapshots once it is quiet, at its last row: a restart replays nothing.
            foreach (var p in events.Select(e => KeyGroups.PartitionOf($"merchant/{e.EntityId}", options.State.Partitions)).Distinct())
            {
                var id = $"entity-{p}";
                var deadline = DateTime.UtcNow.AddSeconds(15);
                while (await Sequence("snapshot", id) < await Sequence("journal", id))
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{id} did not snapshot its tail while quiet");
                    await Task.Delay(100);
                }
            }
        }
        await using (var host = await TestHost.StartAsync(options))
        {
            for (var m = 0; m < 8; m++)
            {
                var merchant = await Read(host, options, "merchant", $"m{m}");
                Assert.True(merchant.Exists);
                Assert.Equal(events.Where(e => e.EntityId == $"m{m}").Max(e => e.Offset), merchant.State["n"].GetInt64());
            }
        }

        var off = Options(snapshotEvery: 1_000_000);
        off.State.SnapshotWhenIdle = TimeSpan.Zero;
        await using (var host = await TestHost.StartAsync(off))
        {
            await ApplyAsync(host, off, [Ev("s", 41, "merchant", "quiet", EventKind.Upsert, """{"n": 41}""")]);
            await Task.Delay(2500);
        }
        var quiet = $"entity-{KeyGroups.PartitionOf("merchant/quiet", off.State.Partitions)}";
        Assert.True(await Sequence("snapshot", quiet) < await Sequence("journal", quiet),
            "State:SnapshotWhenIdle = 0 still snapshotted a quiet partition");
    }

    [Fact]
    public async Task a_different_partition_count_against_the_journal_refuses_to_start_naming_the_setting()
    {
        await using (await TestHost.StartAsync(Options()))
        {
        }
        var changed = Options();
        changed.State.Partitions = 8;
        var problem = await PartitionLayout.VerifyAsync(new Platform.Journal.JournalDatabase(changed.Journal), changed.State);
        Assert.NotNull(problem);
        Assert.Contains("ContextLake:State:Partitions", problem);
        Assert.Contains("created with 4 partitions", problem);
        Assert.Null(await PartitionLayout.VerifyAsync(new Platform.Journal.JournalDatabase(changed.Journal), Options().State));
    }

    [Fact]
    public async Task a_node_that_sets_no_partition_count_takes_the_journals_or_on_a_new_journal_the_providers_default()
    {
        var unset = Options();
        unset.State.Partitions = 0;
        Assert.Null(await PartitionLayout.VerifyAsync(new Platform.Journal.JournalDatabase(unset.Journal), unset.State));
        Assert.Equal(StateOptions.DefaultPartitions(Provider), unset.State.Partitions);

        // A journal first written with 8 (set explicitly) keeps 8 for a node that sets nothing.
        await using var other = TestJournal.Create(Provider);
        var eight = new NodeOptions { Journal = other.Options, State = { Partitions = 8 } };
        Assert.Null(await PartitionLayout.VerifyAsync(new Platform.Journal.JournalDatabase(eight.Journal), eight.State));
        var later = new NodeOptions { Journal = other.Options };
        Assert.Null(await PartitionLayout.VerifyAsync(new Platform.Journal.JournalDatabase(later.Journal), later.State));
        Assert.Equal(8, later.State.Partitions);
    }

    private Task<long> SnapshotRows(string persistenceId) => Journal.WriterScalarAsync("COUNT(*)", "snapshot", persistenceId);

    private Task<long> Sequence(string table, string persistenceId) => Journal.SequenceAsync(table, persistenceId);
}

public sealed class SqliteEntityPartitionJournalSpec() : EntityPartitionJournalSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlEntityPartitionJournalSpec() : EntityPartitionJournalSpec(JournalProvider.PostgreSql);
