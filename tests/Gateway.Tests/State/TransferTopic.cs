// A Kafka topic of transfers on librdkafka's mock cluster, as the state specs use it: a real Confluent producer
// (idempotent) writes {"id","from_account","to_account","amount"} records keyed by id; a kafka connector reads
// them into the entity type transfer. The mock broker keeps a bounded log per partition (older records are
// pruned), so a spec must not produce far ahead of the connector; AssertNothingPruned checks it did not.
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Connectors.Kafka;
using Xunit;

namespace ContextLake.Gateway.Tests.State;

public sealed class TransferTopic(MockKafkaCluster kafka, string topic) : IDisposable
{
    private readonly IProducer<string, string> _producer = new ProducerBuilder<string, string>(new ProducerConfig
    {
        BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true, LingerMs = 5,
    }).Build();

    private int _failed;

    public string Topic => topic;

    public long Produced { get; private set; }

    /// <summary>The connector reading this topic into transfers; short group timeouts, so a killed member's partitions move on quickly.</summary>
    public string Connector(string name, int batch) => JsonSerializer.Serialize(new
    {
        name,
        config = new
        {
            type = "kafka", topic, entityType = "transfer", idField = "id", batch,
            properties = new Dictionary<string, string> { ["session.timeout.ms"] = "1500", ["heartbeat.interval.ms"] = "100" },
        },
    });

    public void Produce(string id, string from, string to, decimal amount)
    {
        _producer.Produce(topic, new Message<string, string>
        {
            Key = id,
            Value = JsonSerializer.Serialize(new { id, from_account = from, to_account = to, amount }),
        }, report =>
        {
            if (report.Error.IsError) Interlocked.Increment(ref _failed);
        });
        Produced++;
    }

    /// <summary>Waits until every record produced is delivered; returns each partition's high watermark (its record count).</summary>
    public Dictionary<int, long> Flush()
    {
        Assert.True(_producer.Flush(TimeSpan.FromSeconds(60)) == 0, "records still undelivered after 60 s");
        Assert.True(_failed == 0, $"{_failed} records failed to be delivered");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = $"{topic}-watermarks" }).Build();
        var watermarks = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.ToDictionary(
            p => p.PartitionId,
            p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10)).High.Value);
        Assert.True(watermarks.Values.Sum() == Produced, $"the topic holds {watermarks.Values.Sum()} records; {Produced} were produced");
        return watermarks;
    }

    /// <summary>"after" positions that an epoch covers once it commits every record of the topic (stream offsets are Kafka's + 1).</summary>
    public IEnumerable<string> Ends(string connector, IReadOnlyDictionary<int, long> watermarks) =>
        watermarks.Where(kv => kv.Value > 0).Select(kv => $"{KafkaConnectorFactory.StreamOf(connector, new TopicPartition(topic, kv.Key))}@{kv.Value}");

    /// <summary>The streams of this topic in an epoch's vector, summed: the records it commits.</summary>
    public long Committed(string connector, JsonElement vector) =>
        vector.EnumerateObject().Where(s => s.Name.StartsWith($"kafka:{connector}/{topic}/", StringComparison.Ordinal)).Sum(s => s.Value.GetInt64());

    /// <summary>
    /// Had the producer run too far ahead, the mock broker would have pruned records before the connector read them, and the
    /// consumer would have skipped them ("Offset out of range"): the spec's pacing failed, not (necessarily) the engine.
    /// </summary>
    public static void AssertNothingPruned(string nodeOutput) =>
        Assert.False(nodeOutput.Contains("Offset out of range", StringComparison.Ordinal),
            "the mock broker pruned records the connector had not read yet (the producer ran too far ahead)");

    public void Dispose() => _producer.Dispose();
}
