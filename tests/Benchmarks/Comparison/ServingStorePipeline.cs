// The pattern ContextLake replaces, built as people build it: a Kafka consumer group reads the transfers and
// keeps the credits and debits aggregates in a serving store, one update per aggregate key, either per record
// or micro-batched (records pre-aggregated per key, the batch's updates sent together) as a Flink-to-Redis or
// Flink-to-JDBC sink does; offsets are committed after the store acknowledged (at least once).
using Confluent.Kafka;
using ContextLake.Benchmarks.Support;

namespace ContextLake.Benchmarks.Comparison;

public abstract class ServingStorePipeline : IAsyncDisposable
{
    public const int MaxBatch = 500;
    public static readonly TimeSpan MaxBatchDelay = TimeSpan.FromMilliseconds(5);

    protected ServingStorePipeline(bool microBatch) => MicroBatch = microBatch;

    public bool MicroBatch { get; }

    public abstract string Name { get; }

    /// <summary>Empties the aggregates, so each run starts from zero.</summary>
    public abstract Task ResetAsync();

    /// <summary>Applies transfers: per record, two updates (its credit, its debit), each its own store command.</summary>
    protected abstract Task ApplyOneAsync(Transfer transfer);

    /// <summary>Applies a micro-batch: per-key sums sent together, as the store's batching allows.</summary>
    protected abstract Task ApplyBatchAsync(IReadOnlyDictionary<string, (long Sum, long Count)> credits, IReadOnlyDictionary<string, (long Sum, long Count)> debits);

    /// <summary>The decision read: every account's credit and debit total, in one request to the store.</summary>
    public abstract Task<(long Credits, long Debits)> ReadBalancesAsync();

    /// <summary>Consumes the topics from the start until <paramref name="records"/> are applied; visibility per record.</summary>
    public Task RunAsync(string bootstrap, BankTopics topics, long records, Visibility visibility, TimeSpan deadline) => Task.Factory.StartNew(async () =>
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"{new string(Name.Where(char.IsAsciiLetterOrDigit).ToArray())}-{topics.Name}", AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoOffsetStore = false, EnableAutoCommit = true, AutoCommitIntervalMs = 1000,
            FetchWaitMaxMs = 1, SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500,
        }).Build();
        consumer.Subscribe(topics.Topics);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long applied = 0;
        var batch = new List<ConsumeResult<Ignore, string>>();
        while (applied < records && clock.Elapsed < deadline)
        {
            if (!MicroBatch)
            {
                var r = Next(consumer, TimeSpan.FromMilliseconds(100));
                if (r is null || r.IsPartitionEOF) continue;
                await ApplyOneAsync(Transfer.Parse(r.Message.Value));
                visibility.Seen(topics.IndexOf(r.TopicPartition), topics.Partitions, r.Offset.Value, r.Offset.Value + 1);
                consumer.StoreOffset(r);
                applied++;
                continue;
            }

            batch.Clear();
            var first = Next(consumer, TimeSpan.FromMilliseconds(100));
            if (first is null || first.IsPartitionEOF) continue;
            batch.Add(first);
            var window = System.Diagnostics.Stopwatch.StartNew();
            while (batch.Count < MaxBatch && window.Elapsed < MaxBatchDelay)
            {
                var r = Next(consumer, TimeSpan.Zero);
                if (r is null) break;
                if (!r.IsPartitionEOF) batch.Add(r);
            }
            var credits = new Dictionary<string, (long Sum, long Count)>();
            var debits = new Dictionary<string, (long Sum, long Count)>();
            foreach (var r in batch)
            {
                var t = Transfer.Parse(r.Message.Value);
                credits[t.ToAccount] = credits.TryGetValue(t.ToAccount, out var c) ? (c.Sum + t.Amount, c.Count + 1) : (t.Amount, 1);
                debits[t.FromAccount] = debits.TryGetValue(t.FromAccount, out var d) ? (d.Sum + t.Amount, d.Count + 1) : (t.Amount, 1);
            }
            await ApplyBatchAsync(credits, debits);
            foreach (var r in batch)
            {
                visibility.Seen(topics.IndexOf(r.TopicPartition), topics.Partitions, r.Offset.Value, r.Offset.Value + 1);
                consumer.StoreOffset(r);
            }
            applied += batch.Count;
        }
        consumer.Close();
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>The next record, or null; a topic the producer has not created yet is waited for, not an error.</summary>
    private static ConsumeResult<Ignore, string>? Next(IConsumer<Ignore, string> consumer, TimeSpan timeout)
    {
        try
        {
            return consumer.Consume(timeout);
        }
        catch (ConsumeException ex) when (ex.Error.Code == ErrorCode.UnknownTopicOrPart)
        {
            Thread.Sleep(10);
            return null;
        }
    }

    public abstract ValueTask DisposeAsync();
}
