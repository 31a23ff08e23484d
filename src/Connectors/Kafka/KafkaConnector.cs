// The Kafka connector: each topic partition is a stream kafka:{connector}/{topic}/{partition}. A
// partition (re)assigned to this node resumes after what the committed epoch covers, and its Kafka
// offset is committed only once an epoch covers it. Stream offsets are Kafka offsets + 1, so that 0
// means "nothing" in a vector clock.
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using ContextLake.Connectors.Framework;

namespace ContextLake.Connectors.Kafka;

public sealed class KafkaConnectorFactory(Func<string> defaultBootstrapServers) : IConnectorFactory
{
    public string Type => "kafka";

    public ConnectorPlacement Placement => ConnectorPlacement.EveryNode;

    public void Validate(ConnectorConfig config)
    {
        Topics(config);
        RecordMapping.From(config);
        config.OptionalInt("batch", 500, 1, 100_000);
        config.OptionalInt("lingerMs", 10, 1, 10_000);
        config.OptionalInt("tasks", 1, 1, 64);
        Properties(config);
    }

    /// <summary>
    /// Decodes a record's value as JSON; with "keyField" / "headersField" configured, the record's key (UTF-8)
    /// and headers (name → UTF-8 value) join the value under those names, so the mapping can use them.
    /// </summary>
    internal static Func<ConsumeResult<byte[]?, byte[]?>, System.Text.Json.JsonElement> Decoder(ConnectorConfig config)
    {
        var keyField = config.OptionalString("keyField");
        var headersField = config.OptionalString("headersField");
        return record =>
        {
            // Not disposed: the record's value bytes are the document's, and the event's data is its root (no copy per record).
            var doc = System.Text.Json.JsonDocument.Parse(record.Message.Value ?? []);
            if ((keyField is null && headersField is null) || doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                return doc.RootElement;
            var merged = System.Text.Json.Nodes.JsonObject.Create(doc.RootElement)!;
            if (keyField is not null)
                merged[keyField] = record.Message.Key is { } key ? System.Text.Encoding.UTF8.GetString(key) : null;
            if (headersField is not null)
            {
                var headers = new System.Text.Json.Nodes.JsonObject();
                foreach (var h in record.Message.Headers ?? []) headers[h.Key] = System.Text.Encoding.UTF8.GetString(h.GetValueBytes());
                merged[headersField] = headers;
            }
            return System.Text.Json.JsonSerializer.SerializeToElement(merged);
        };
    }

    /// <summary>"properties": extra librdkafka settings (strings), e.g. {"session.timeout.ms": "6000"}.</summary>
    internal static IReadOnlyDictionary<string, string> Properties(ConnectorConfig config)
    {
        if (!config.Config.TryGetProperty("properties", out var p) || p.ValueKind == System.Text.Json.JsonValueKind.Null)
            return new Dictionary<string, string>();
        if (p.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw new ConnectorConfigException(config.Name, "properties", "must be an object of librdkafka settings");
        return p.EnumerateObject().ToDictionary(
            e => e.Name,
            e => e.Value.ValueKind == System.Text.Json.JsonValueKind.String ? e.Value.GetString()! : e.Value.GetRawText());
    }

    public IConnectorRun Start(ConnectorConfig config, ConnectorContext context)
    {
        Validate(config);
        var settings = new KafkaSourceSettings(
            config.OptionalString("bootstrapServers") ?? defaultBootstrapServers(),
            config.OptionalString("groupId") ?? $"contextlake-{config.Name}",
            Topics(config),
            MaxBufferPerPartition: config.OptionalInt("maxBufferPerPartition", 1000, 1, 1_000_000))
        {
            Properties = Properties(config),
        };
        return new KafkaRun(config, context, settings, config.OptionalInt("tasks", 1, 1, 64));
    }

    internal static IReadOnlyList<string> Topics(ConnectorConfig config)
    {
        var topics = (config.OptionalString("topics") ?? config.RequiredString("topic"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (topics.Length == 0) throw new ConnectorConfigException(config.Name, "topics", "names no topic");
        return topics;
    }

    public static string StreamOf(string connector, TopicPartition tp) => $"kafka:{connector}/{tp.Topic}/{tp.Partition.Value}";
}

/// <summary>
/// A Kafka connector's tasks: each one consumer of the group, joining one after another (as Kafka
/// Connect starts tasks), so partitions are rebalanced among them. A partition that moves resumes after
/// the committed epoch; what the previous owner had read but not committed is read again and deduplicated.
/// </summary>
internal sealed class KafkaRun : IConnectorRun
{
    private static readonly TimeSpan TaskStagger = TimeSpan.FromMilliseconds(500);
    private readonly List<IKafkaControl> _controls = new();
    private readonly CancellationTokenSource _stop = new();

    public KafkaRun(ConnectorConfig config, ConnectorContext context, KafkaSourceSettings settings, int tasks)
    {
        Completion = Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Run(config, context, settings, TaskStagger * t)));
    }

    public Task Completion { get; }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        List<IKafkaControl> controls;
        lock (_controls) controls = _controls.ToList();
        await Task.WhenAll(controls.Select(c => c.StopAsync()));
    }

    private async Task Run(ConnectorConfig config, ConnectorContext context, KafkaSourceSettings settings, TimeSpan delay)
    {
        await context.EpochKnownAsync(_stop.Token);
        await Task.Delay(delay, _stop.Token);
        var mapping = RecordMapping.From(config);
        var decode = KafkaConnectorFactory.Decoder(config);
        var batch = config.OptionalInt("batch", 500, 1, 100_000);
        // A run is what arrived within lingerMs, or batch records: small at a low rate (fresh), full under a backlog. The window
        // is an Akka Streams timer, which fires on the scheduler's 10 ms ticks.
        var linger = TimeSpan.FromMilliseconds(config.OptionalInt("lingerMs", 10, 1, 10_000));
        var log = Logging.GetLogger(context.System, typeof(KafkaRun));
        var materializer = context.System.Materializer();
        IKafkaControl? control = null;

        var (ctl, done) = KafkaSources
            .Partitioned(context.System, settings, tp =>
            {
                var committed = context.ResumeAfter(KafkaConnectorFactory.StreamOf(context.Name, tp));
                return committed > 0 ? committed : null;
            })
            .SelectAsyncUnordered(1024, async pair =>
            {
                var stream = new ConnectorStream(context, KafkaConnectorFactory.StreamOf(context.Name, pair.Partition), mapping);
                context.Hold(stream.Stream);
                await pair.Records
                    .GroupedWithin(batch, linger)
                    .SelectAsync(1, async records =>
                    {
                        var byOffset = records.ToDictionary(r => r.Offset.Value + 1);
                        var raw = records.Select(r => new RawRecord(r.Offset.Value + 1, r.Message.Value ?? [])).ToList();
                        await stream.WriteAsync(raw, CancellationToken.None, r => decode(byOffset[r.Offset]));
                        CommitWhenCovered(context, control!, pair.Partition, stream.Stream, raw[^1].Offset, log);
                        return raw.Count;
                    })
                    .RunWith(Sink.Ignore<int>(), materializer);
                // The partition was revoked (or the run stops): another member of the group, maybe on another node, owns it now.
                context.Release(stream.Stream);
                return pair.Partition;
            })
            .ToMaterialized(Sink.Ignore<TopicPartition>(), Keep.Both)
            .Run(materializer);
        control = ctl;
        lock (_controls) _controls.Add(ctl);
        _ = ReportBuffered(context, ctl, done);
        await done;
    }

    /// <summary>Publishes what the consumer holds per partition into the connector's status, and each partition's end
    /// to the epoch coordinator as how far the stream could be read, twice a second: the stream's lag (end minus
    /// committed) is then the backlog still waiting in Kafka, which /readyz bounds with Health:MaxStreamLag.</summary>
    private async Task ReportBuffered(ConnectorContext context, IKafkaControl control, Task done)
    {
        while (!done.IsCompleted && !_stop.IsCancellationRequested)
        {
            try
            {
                var status = await control.StatusAsync();
                foreach (var tp in status.Assigned)
                {
                    var stream = KafkaConnectorFactory.StreamOf(context.Name, tp);
                    context.ReportBuffered(stream, status.Buffered.GetValueOrDefault(tp));
                    // Our offsets are Kafka's + 1, so the partition's end (next Kafka offset) is the last record's offset.
                    var committed = context.Clock.Latest[stream];
                    if (status.End.TryGetValue(tp, out var end) && end > committed) context.Runs.ReportRead(stream, committed, end);
                }
                await Task.Delay(500, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or Akka.Actor.AskTimeoutException or InvalidOperationException)
            {
                return;
            }
        }
    }

    /// <summary>Kafka's committed offset never runs ahead of the committed epoch: a restart resumes from the epoch.</summary>
    private static void CommitWhenCovered(ConnectorContext context, IKafkaControl control, TopicPartition tp, string stream, long upTo, ILoggingAdapter log) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await context.Clock.WaitAsync(e => e.Covers(stream, upTo), TimeSpan.FromMinutes(1), CancellationToken.None);
                await control.CommitAsync(new Dictionary<TopicPartition, long> { [tp] = upTo });
            }
            catch (Exception ex)
            {
                log.Warning("committing {0} up to offset {1} failed: {2}", stream, upTo - 1, ex.Message);
            }
        });
}
