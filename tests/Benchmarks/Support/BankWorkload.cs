// The bank workload every freshness and comparison scenario uses: transfers among ten accounts, produced
// to partition 0 of a Kafka topic at a fixed rate. The decision read is all ten accounts' credits and
// debits (20 keys); every transfer adds its amount to one credit and one debit, so a coherent read balances
// to exactly zero. Send times are kept per offset so any consumer can say when each record became visible.
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
}

public static class BankWorkload
{
    public const int Accounts = 10;

    public static IEnumerable<string> AccountIds => Enumerable.Range(0, Accounts).Select(a => $"a{a}");

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
    /// Produces the transfers to partition 0 in order, <paramref name="rate"/> per second (0: as fast as possible),
    /// and keeps each record's send time (Stopwatch timestamp) at its offset in <paramref name="sendTimes"/>;
    /// throws unless the records land at offsets firstOffset, firstOffset + 1, ….
    /// </summary>
    public static async Task<long[]> ProduceAsync(string bootstrap, string topic, Transfer[] transfers, double rate, long[]? sendTimes = null, int firstOffset = 0)
    {
        var sent = sendTimes ?? new long[firstOffset + transfers.Length];
        var misplaced = 0;
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, LingerMs = rate > 0 ? 0 : 5, EnableIdempotence = true,
        }).Build();
        var partition = new TopicPartition(topic, new Partition(0));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < transfers.Length; i++)
        {
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds(i / rate);
                // Task.Delay has millisecond granularity: records falling due within the same tick go out together.
                if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
            }
            var index = firstOffset + i;
            sent[index] = Stopwatch.GetTimestamp();
            producer.Produce(partition, new Message<Null, string> { Value = transfers[i].ToJson() }, report =>
            {
                if (report.Error.IsError || report.Offset.Value != index) Interlocked.Increment(ref misplaced);
            });
        }
        producer.Flush(TimeSpan.FromMinutes(1));
        if (misplaced > 0) throw new InvalidOperationException($"{misplaced} records of {topic} failed or did not land at their own offset");
        return sent;
    }
}

/// <summary>When each record (by offset) became visible, as a delay in ms from its send time.</summary>
public sealed class Visibility(long[] sent)
{
    private readonly double[] _delays = Enumerable.Repeat(double.NaN, sent.Length).ToArray();
    private readonly long[] _visibleAt = new long[sent.Length];
    private long _visible;

    public long Visible => Interlocked.Read(ref _visible);

    public bool All => Visible >= sent.Length;

    /// <summary>Records [from, to) are visible now.</summary>
    public void Seen(long from, long to)
    {
        var now = Stopwatch.GetTimestamp();
        for (var o = from; o < to && o < sent.Length; o++)
            if (double.IsNaN(_delays[o]))
            {
                _delays[o] = Stopwatch.GetElapsedTime(sent[o], now).TotalMilliseconds;
                _visibleAt[o] = now;
                Interlocked.Increment(ref _visible);
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
