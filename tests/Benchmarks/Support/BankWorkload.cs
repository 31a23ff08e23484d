// The bank workload every Kafka scenario uses: transfers among ten accounts, produced at a fixed rate to the
// partitions of a stream's topics in turn (record i to partition i mod P at offset i div P). The decision read is all
// ten accounts' credits and debits (20 keys); every transfer adds its amount to one credit and one debit, so a coherent
// read balances to exactly zero. Send times are kept per record so any consumer can say when each became visible.
// librdkafka's mock broker keeps at most 5 MB per partition and silently drops the oldest records past that, and
// creates every topic with 4 partitions (it has no controller for CreateTopics): a stream gets a partition per 50,000
// transfers (about 4 MB), over as many 4-partition topics as that takes, so no record is dropped before it is read.
using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;

namespace ContextLake.Benchmarks.Support;

public sealed record Transfer(string Id, string FromAccount, string ToAccount, long Amount)
{
    public static Transfer Parse(string json)
    {
        var e = JsonDocument.Parse(json).RootElement;
        return new Transfer(e.GetProperty("id").GetString()!, e.GetProperty("from_account").GetString()!,
            e.GetProperty("to_account").GetString()!, e.GetProperty("amount").GetInt64());
    }

    public string ToJson() => JsonSerializer.Serialize(new { id = Id, from_account = FromAccount, to_account = ToAccount, amount = Amount });

    /// <summary>The transfer as an event of a POST /v1/events body.</summary>
    public object ToEvent() => new { type = "transfer", id = Id, kind = "event", data = new { from_account = FromAccount, to_account = ToAccount, amount = Amount } };
}

public static class BankWorkload
{
    public const int Accounts = 10;

    public static IEnumerable<string> AccountIds => Enumerable.Range(0, Accounts).Select(a => $"a{a}");

    /// <summary>Transfers one partition of the mock broker holds with room to spare (it keeps 5 MB per partition; 40,000 records lost some).</summary>
    public const int PerPartition = 25_000;

    public static Transfer[] Transfers(int count, int seed, string prefix)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var from = random.Next(Accounts);
            var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
            return new Transfer($"{prefix}{i}", $"a{from}", $"a{to}", random.Next(1, 1000));
        }).ToArray();
    }

    /// <summary>
    /// Produces the transfers in order to partition 0 of <paramref name="topic"/>, record i (counting from <paramref name="first"/>) at offset i,
    /// <paramref name="rate"/> per second (0: as fast as possible; the records are serialized before the first is sent, so the pace costs
    /// the cores only the producer's own work), and keeps each record's send time (Stopwatch timestamp) at i in <paramref name="sendTimes"/>;
    /// throws unless every record lands at its offset.
    /// </summary>
    public static Task<long[]> ProduceAsync(string bootstrap, string topic, Transfer[] transfers, double rate, long[]? sendTimes = null, int first = 0) =>
        ProduceAsync(bootstrap, new BankTopics(topic, 1), transfers, rate, sendTimes, first);

    /// <summary>As above, over the partitions of <paramref name="topics"/>.</summary>
    public static async Task<long[]> ProduceAsync(string bootstrap, BankTopics topics, Transfer[] transfers, double rate, long[]? sendTimes = null, int first = 0)
    {
        var partitions = topics.Partitions;
        var sent = sendTimes ?? new long[first + transfers.Length];
        var misplaced = 0;
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, LingerMs = rate > 0 ? 0 : 5, EnableIdempotence = true,
            // A backlog of a million records is queued at once: room for all of them in the producer's queue.
            QueueBufferingMaxMessages = Math.Clamp(transfers.Length + 1000, 100_000, 10_000_000),
        }).Build();
        var targets = Enumerable.Range(0, partitions).Select(topics.At).ToArray();
        var values = transfers.Select(t => t.ToJson()).ToArray();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < transfers.Length; i++)
        {
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds(i / rate);
                // Task.Delay has millisecond granularity: records falling due within the same tick go out together.
                // One reading of the clock: a second one could pass `due` and hand Task.Delay a negative wait.
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
            }
            var index = first + i;
            sent[index] = Stopwatch.GetTimestamp();
            producer.Produce(targets[index % partitions], new Message<Null, string> { Value = values[i] }, report =>
            {
                if (report.Error.IsError || report.Offset.Value != index / partitions) Interlocked.Increment(ref misplaced);
            });
        }
        var queued = producer.Flush(TimeSpan.FromMinutes(3));
        if (queued > 0) throw new InvalidOperationException($"{queued} records of {topics.Name} were still not delivered after 3 minutes");
        if (misplaced > 0) throw new InvalidOperationException($"{misplaced} records of {topics.Name} failed or did not land at their own offset");
        return sent;
    }
}

/// <summary>
/// Where a stream of the bank workload lives: <paramref name="Partitions"/> partitions over topics of four (the mock broker's
/// partitions per topic), named Name, Name-1, Name-2, …; partition j is partition j mod 4 of topic j div 4.
/// </summary>
public sealed record BankTopics(string Name, int Partitions)
{
    public const int PerTopic = 4;

    /// <summary>The topics, partitions and streams a stream of <paramref name="records"/> transfers needs so the mock broker drops none.</summary>
    public static BankTopics For(string name, long records) => new(name, (int)Math.Max(1, (records + BankWorkload.PerPartition - 1) / BankWorkload.PerPartition));

    public string[] Topics => Enumerable.Range(0, (Partitions + PerTopic - 1) / PerTopic).Select(t => t == 0 ? Name : $"{Name}-{t}").ToArray();

    public TopicPartition At(int j) => new(Topics[j / PerTopic], new Partition(j % PerTopic));

    /// <summary>Index j of a record's partition, from where the consumer read it.</summary>
    public int IndexOf(TopicPartition tp) => Array.IndexOf(Topics, tp.Topic) * PerTopic + tp.Partition.Value;

    /// <summary>The node's stream of each partition, as a Kafka connector named <paramref name="connector"/> names them.</summary>
    public string[] Streams(string connector) => Enumerable.Range(0, Partitions).Select(j => $"kafka:{connector}/{At(j).Topic}/{At(j).Partition.Value}").ToArray();

    /// <summary>Creates the topics (the mock broker creates a topic, with four partitions, when a client first asks for it).</summary>
    public void Create(string bootstrap)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        foreach (var topic in Topics) admin.GetMetadata(topic, TimeSpan.FromSeconds(30));
    }
}

/// <summary>When each record (by its index i: offset i div P of partition i mod P) became visible, as a delay in ms from its send time.</summary>
public sealed class Visibility(long[] sent)
{
    private readonly double[] _delays = Enumerable.Repeat(double.NaN, sent.Length).ToArray();
    private readonly long[] _visibleAt = new long[sent.Length];
    private long _visible;

    public long Visible => Interlocked.Read(ref _visible);

    public bool All => Visible >= sent.Length;

    /// <summary>Records [from, to) of a one-partition topic are visible now.</summary>
    public void Seen(long from, long to) => Seen(0, 1, from, to);

    /// <summary>Offsets [from, to) of <paramref name="partition"/> of a topic of <paramref name="partitions"/> are visible now.</summary>
    public void Seen(int partition, int partitions, long from, long to)
    {
        var now = Stopwatch.GetTimestamp();
        for (var o = from; o < to; o++)
        {
            var i = o * partitions + partition;
            if (i >= sent.Length) break;
            if (double.IsNaN(_delays[i]))
            {
                _delays[i] = Stopwatch.GetElapsedTime(sent[i], now).TotalMilliseconds;
                _visibleAt[i] = now;
                Interlocked.Increment(ref _visible);
            }
        }
    }

    /// <summary>Delays of the records from offset <paramref name="from"/> on (0: all; 1: without the warm-up record).</summary>
    public IReadOnlyList<double> Delays(int from = 0) => _delays.Skip(from).Where(d => !double.IsNaN(d)).ToList();

    /// <summary>
    /// Records per second once the first became visible: the records seen after that moment over the time until
    /// the last; the consumer's start (group join, first fetch) is left out, the same way for every system.
    /// When every record became visible at one moment (one batch), all of them over the time since <paramref name="started"/>.
    /// </summary>
    public double SteadyRate(long started)
    {
        var seen = _visibleAt.Where(t => t != 0).ToArray();
        if (seen.Length == 0) return double.NaN;
        var (first, last) = (seen.Min(), seen.Max());
        return last > first
            ? seen.Count(t => t > first) / Stopwatch.GetElapsedTime(first, last).TotalSeconds
            : seen.Length / Stopwatch.GetElapsedTime(started, last).TotalSeconds;
    }
}
