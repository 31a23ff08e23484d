// The partitioned Kafka source against librdkafka's mock cluster on loopback, with a real producer and
// real consumer groups: delivery in offset order, start offsets, commits, rebalancing and backpressure.
using System.Collections.Concurrent;
using System.Text;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using ContextLake.Connectors.Kafka;
using Confluent.Kafka;
using Xunit;

namespace ContextLake.Connectors.Tests.Kafka;

public sealed class KafkaSourceSpec : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const int Partitions = 4; // what the mock cluster gives an auto-created topic
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // A new group's first assignment waits 3 s for more members by default; tests have no one else to wait for.
    private readonly MockKafkaCluster _cluster = new(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
    private readonly IMaterializer _mat;

    public KafkaSourceSpec() : base("akka.loglevel = WARNING")
    {
        _mat = Sys.Materializer();
    }

    void IDisposable.Dispose()
    {
        _cluster.Dispose();
    }

    // One sub-source run: which partition, the offsets it delivered in order, and when it ended.
    private sealed record SubRun(TopicPartition Partition)
    {
        public ConcurrentQueue<ConsumeResult<byte[]?, byte[]?>> Records { get; } = new();
        public Task Completion { get; set; } = Task.CompletedTask;
        public List<long> Offsets => Records.Select(r => r.Offset.Value).ToList();
    }

    private sealed record Running(IKafkaControl Control, ConcurrentQueue<SubRun> Runs)
    {
        public List<ConsumeResult<byte[]?, byte[]?>> All => Runs.SelectMany(r => r.Records).ToList();
    }

    private KafkaSourceSettings Settings(string group, string topic, int maxBuffer = 1000) =>
        new KafkaSourceSettings(_cluster.BootstrapServers, group, [topic], maxBuffer)
            // Rejoin quickly when the coordinator starts a rebalance; the mock also holds a join to an emptied group
            // for about the session timeout, so keep that short too (the mock enforces no minimum).
            .WithProperty("heartbeat.interval.ms", "100")
            .WithProperty("session.timeout.ms", "1500");

    private static string NewTopic() => "t-" + Guid.NewGuid().ToString("N")[..8];

    private void Produce(string topic, int perPartition, int? onlyPartition = null)
    {
        var config = new ProducerConfig { BootstrapServers = _cluster.BootstrapServers, LingerMs = 5 };
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        var partitions = onlyPartition is { } only ? [only] : Enumerable.Range(0, Partitions).ToArray();
        var errors = 0;
        foreach (var p in partitions)
        for (var i = 0; i < perPartition; i++)
            producer.Produce(new TopicPartition(topic, p), new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($"k{p}"),
                Value = Encoding.UTF8.GetBytes($"p{p}-{i}"),
            }, report =>
            {
                if (report.Error.IsError) Interlocked.Increment(ref errors);
            });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, errors);
    }

    // Runs every sub-source to a sink that collects, so the test sees each assignment separately.
    private Running Consume(KafkaSourceSettings settings, Func<TopicPartition, long?>? startOffset = null)
    {
        var runs = new ConcurrentQueue<SubRun>();
        var control = KafkaSources.Partitioned(Sys, settings, startOffset ?? (_ => null))
            .To(Sink.ForEach<(TopicPartition Partition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed> Records)>(p =>
            {
                var run = new SubRun(p.Partition);
                run.Completion = p.Records.RunForeach(r => run.Records.Enqueue(r), _mat);
                runs.Enqueue(run);
            }))
            .Run(_mat);
        return new Running(control, runs);
    }

    private static Task Eventually(Func<bool> condition, string what) => Eventually(() => Task.FromResult(condition()), what);

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting until " + what);
            await Task.Delay(25);
        }
    }

    private static Task<bool> Quiet(TimeSpan span) => Task.Delay(span).ContinueWith(_ => true);

    private static void AssertContiguous(IReadOnlyList<long> offsets, long from, long count, string where)
    {
        Assert.True(offsets.SequenceEqual(Enumerable.Range(0, (int)count).Select(i => from + i)),
            $"{where}: expected {from}..{from + count - 1}, got [{string.Join(",", offsets)}]");
    }

    [Fact]
    public async Task every_produced_record_is_delivered_once_per_partition_in_offset_order()
    {
        var topic = NewTopic();
        Produce(topic, perPartition: 50);
        var consumer = Consume(Settings("g-order", topic));

        await Eventually(() => consumer.All.Count >= Partitions * 50, "all records arrived");
        await Quiet(TimeSpan.FromMilliseconds(300)); // room for any duplicate to show up
        await consumer.Control.StopAsync();

        var all = consumer.All;
        Assert.Equal(Partitions * 50, all.Count);
        foreach (var group in all.GroupBy(r => r.Partition.Value))
        {
            var inOrder = group.ToList();
            AssertContiguous(inOrder.Select(r => r.Offset.Value).ToList(), 0, 50, $"partition {group.Key}");
            Assert.Equal(Enumerable.Range(0, 50).Select(i => $"p{group.Key}-{i}"), inOrder.Select(r => Encoding.UTF8.GetString(r.Message.Value!)));
        }
        Assert.Equal(Partitions, consumer.Runs.Count);
    }

    [Fact]
    public async Task a_start_offset_from_the_callback_is_honoured_and_earlier_records_are_not_delivered()
    {
        var topic = NewTopic();
        Produce(topic, perPartition: 50);
        var consumer = Consume(Settings("g-start", topic), tp => tp.Partition.Value switch
        {
            0 => 30,
            1 => 49,
            _ => null,
        });

        await Eventually(() => consumer.All.Count >= 20 + 1 + 2 * 50, "the expected records arrived");
        await Quiet(TimeSpan.FromMilliseconds(300));
        await consumer.Control.StopAsync();

        var byPartition = consumer.All.GroupBy(r => r.Partition.Value).ToDictionary(g => g.Key, g => g.Select(r => r.Offset.Value).ToList());
        AssertContiguous(byPartition[0], 30, 20, "partition 0");
        AssertContiguous(byPartition[1], 49, 1, "partition 1");
        AssertContiguous(byPartition[2], 0, 50, "partition 2");
        AssertContiguous(byPartition[3], 0, 50, "partition 3");
    }

    [Fact]
    public async Task committed_offsets_are_where_the_next_consumer_of_the_group_resumes()
    {
        var topic = NewTopic();
        Produce(topic, perPartition: 50);
        var first = Consume(Settings("g-commit", topic));
        await Eventually(() => first.All.Count >= Partitions * 50, "the first consumer read everything");

        // Processed 0..24 of every partition (and 0..39 of partition 3): commit the next offset to read.
        var commits = Enumerable.Range(0, Partitions).ToDictionary(p => new TopicPartition(topic, p), p => p == 3 ? 40L : 25L);
        await Task.WhenAll(commits.Select(c => first.Control.CommitAsync(new Dictionary<TopicPartition, long> { [c.Key] = c.Value })));
        await first.Control.StopAsync();

        var second = Consume(Settings("g-commit", topic));
        await Eventually(() => second.All.Count >= 3 * 25 + 10, "the second consumer read what was not committed");
        await Quiet(TimeSpan.FromMilliseconds(300));
        await second.Control.StopAsync();

        var byPartition = second.All.GroupBy(r => r.Partition.Value).ToDictionary(g => g.Key, g => g.Select(r => r.Offset.Value).ToList());
        for (var p = 0; p < 3; p++) AssertContiguous(byPartition[p], 25, 25, $"partition {p}");
        AssertContiguous(byPartition[3], 40, 10, "partition 3");
    }

    [Fact]
    public async Task a_second_member_causes_a_rebalance_that_ends_revoked_sub_sources_and_together_they_cover_every_record()
    {
        var topic = NewTopic();
        Produce(topic, perPartition: 100);
        var first = Consume(Settings("g-rebalance", topic));
        await Eventually(() => first.Runs.Count == Partitions, "the first member got every partition");

        var second = Consume(Settings("g-rebalance", topic));
        await Eventually(() => second.Runs.Count > 0, "the second member got partitions");
        KafkaConsumerStatus firstStatus = null!, secondStatus = null!;
        await Eventually(async () =>
        {
            firstStatus = await first.Control.StatusAsync();
            secondStatus = await second.Control.StatusAsync();
            return firstStatus.Assigned.Count + secondStatus.Assigned.Count == Partitions;
        }, "the partitions are split between both members");
        Assert.NotEmpty(firstStatus.Assigned);
        Assert.NotEmpty(secondStatus.Assigned);
        Assert.Empty(firstStatus.Assigned.Intersect(secondStatus.Assigned));

        // The first member's original sub-sources were revoked, and revoked sub-sources complete.
        var original = first.Runs.Take(Partitions).ToList();
        await Task.WhenAll(original.Select(r => r.Completion)).WaitAsync(Patience);

        var expected = Enumerable.Range(0, Partitions).SelectMany(p => Enumerable.Range(0, 100).Select(i => (p, (long)i))).ToHashSet();
        await Eventually(() => first.All.Concat(second.All).Select(r => (r.Partition.Value, r.Offset.Value)).ToHashSet().IsSupersetOf(expected),
            "both members together delivered every record");
        await Task.WhenAll(first.Control.StopAsync(), second.Control.StopAsync());

        // At-least-once across the rebalance, but each assignment reads its partition in order without gaps.
        foreach (var run in first.Runs.Concat(second.Runs))
        {
            var offsets = run.Offsets;
            if (offsets.Count > 0) AssertContiguous(offsets, offsets[0], offsets.Count, $"a run of {run.Partition}");
        }
    }

    [Fact]
    public async Task a_partition_without_downstream_demand_is_paused_and_holds_at_most_its_buffer_limit()
    {
        const int max = 50;
        const int total = 1000;
        var topic = NewTopic();
        Produce(topic, perPartition: total, onlyPartition: 0);

        var queues = new ConcurrentDictionary<int, ISinkQueue<ConsumeResult<byte[]?, byte[]?>>>();
        var control = KafkaSources.Partitioned(Sys, Settings("g-backpressure", topic, maxBuffer: max), _ => null)
            .To(Sink.ForEach<(TopicPartition Partition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed> Records)>(p =>
                // A sink that pulls only when the test asks, and asks for next to nothing.
                queues[p.Partition.Partition.Value] = p.Records
                    .WithAttributes(Attributes.CreateInputBuffer(1, 1))
                    .RunWith(Sink.Queue<ConsumeResult<byte[]?, byte[]?>>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), _mat)))
            .Run(_mat);
        await Eventually(() => queues.ContainsKey(0), "partition 0 was assigned");

        var received = new List<long>();
        for (var i = 0; i < 3; i++) received.Add((await queues[0].PullAsync().WaitAsync(Patience)).Value.Offset.Value);

        var partition = new TopicPartition(topic, 0);
        await Eventually(async () => (await control.StatusAsync()).Paused.Contains(partition), "partition 0 is paused");
        for (var sample = 0; sample < 8; sample++)
        {
            var status = await control.StatusAsync();
            Assert.Contains(partition, status.Paused);
            Assert.InRange(status.Buffered.GetValueOrDefault(partition), 0, max);
            await Task.Delay(50);
        }

        // Demand comes back: the partition resumes and every record follows, in order, none skipped.
        while (received.Count < total)
        {
            var next = await queues[0].PullAsync().WaitAsync(Patience);
            Assert.True(next.HasValue);
            received.Add(next.Value.Offset.Value);
            if (received.Count % 100 == 0) Assert.InRange((await control.StatusAsync()).Buffered.GetValueOrDefault(partition), 0, max);
        }
        await control.StopAsync();
        AssertContiguous(received, 0, total, "partition 0");
    }

    [Fact]
    public async Task a_partition_paused_when_it_was_revoked_is_read_again_when_it_comes_back()
    {
        const int max = 50;
        const int total = 1000;
        var topic = NewTopic();
        Produce(topic, perPartition: total, onlyPartition: 0);

        // Partition 0's first sub-source asks for nothing, so the partition is paused; every later one reads all it gets.
        var firstRun = new TaskCompletionSource();
        var later = new ConcurrentQueue<SubRun>();
        var first = KafkaSources.Partitioned(Sys, Settings("g-paused-back", topic, maxBuffer: max), tp => tp.Partition.Value == 0 ? 0 : null)
            .To(Sink.ForEach<(TopicPartition Partition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed> Records)>(p =>
            {
                if (p.Partition.Partition.Value != 0) p.Records.RunWith(Sink.Ignore<ConsumeResult<byte[]?, byte[]?>>(), _mat);
                else if (firstRun.TrySetResult())
                    p.Records.WithAttributes(Attributes.CreateInputBuffer(1, 1))
                        .RunWith(Sink.Queue<ConsumeResult<byte[]?, byte[]?>>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), _mat);
                else
                {
                    var run = new SubRun(p.Partition);
                    run.Completion = p.Records.RunForeach(r => run.Records.Enqueue(r), _mat);
                    later.Enqueue(run);
                }
            }))
            .Run(_mat);
        var partition = new TopicPartition(topic, 0);
        await Eventually(async () => (await first.StatusAsync()).Paused.Contains(partition), "partition 0 is paused");

        // A second member joins and leaves: every partition is revoked from the first member and assigned to it again.
        var second = Consume(Settings("g-paused-back", topic));
        await Eventually(() => second.Runs.Count > 0, "the second member got partitions");
        await second.Control.StopAsync();
        await Eventually(async () => (await first.StatusAsync()).Assigned.Count == Partitions, "the first member has every partition again");

        // librdkafka kept partition 0 paused across the rebalance; the consumer resumes it, from the assigned start.
        await Eventually(() => later.LastOrDefault() is { } run && run.Partition.Equals(partition) && run.Records.Count >= total,
            "the re-assigned partition 0 delivered every record");
        await first.StopAsync();
        var last = later.Last(r => r.Partition.Equals(partition));
        AssertContiguous(last.Offsets, 0, total, "partition 0 after it came back");
    }
}
