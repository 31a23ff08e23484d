// A live Kafka stream into a node: a connector on fresh topics (a partition per 50,000 records), one warm-up record
// produced and waited for (the connector's start and group join stay out of the figures), then the rest produced at a
// steady rate while a watcher records when each becomes visible at the committed epoch.
using System.Diagnostics;

namespace ContextLake.Benchmarks.Support;

public sealed class LiveStream
{
    private LiveStream(BankTopics topics, Visibility visibility, Task producing, Task watching)
    {
        Topics = topics;
        Visibility = visibility;
        Producing = producing;
        Watching = watching;
    }

    public BankTopics Topics { get; }

    /// <summary>When each record became visible; record 0 is the warm-up record.</summary>
    public Visibility Visibility { get; }

    /// <summary>Done when the last record was delivered to Kafka.</summary>
    public Task Producing { get; }

    /// <summary>Done when every record is visible, or the deadline passed.</summary>
    public Task Watching { get; }

    /// <summary>Returns once the warm-up record is visible and the rest are being produced at <paramref name="rate"/> per second.</summary>
    public static async Task<LiveStream> StartAsync(BenchNode node, string topic, Transfer[] transfers, double rate, TimeSpan deadline)
    {
        var topics = BankTopics.For(topic, transfers.Length);
        topics.Create(node.Kafka.BootstrapServers);
        var streams = await node.AddTransferConnectorAsync(topic, topics);
        // The watcher reads the send times the producer fills in as it goes: one array shared up front.
        var sendTimes = new long[transfers.Length];
        var visibility = new Visibility(sendTimes);
        var watching = EpochWatcher.WatchAsync(node.Http, streams, visibility, transfers.Length, deadline);
        await BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, topics, transfers[..1], 0, sendTimes);
        var clock = Stopwatch.StartNew();
        while (visibility.Visible < 1 && !watching.IsCompleted && clock.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(5);
        var producing = BankWorkload.ProduceAsync(node.Kafka.BootstrapServers, topics, transfers[1..], rate, sendTimes, first: 1);
        return new LiveStream(topics, visibility, producing, watching);
    }
}
