// librdkafka's in-process mock cluster: real Kafka protocol on loopback, alive as long as the client that
// created it, so tests and the embedded default get brokers without a Kafka installation.
using Confluent.Kafka;

namespace ContextLake.Connectors.Kafka;

public sealed class MockKafkaCluster : IDisposable
{
    // The cluster belongs to this client; disposing it tears the brokers down.
    private readonly IProducer<byte[]?, byte[]?> _owner;

    public MockKafkaCluster(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _owner = new ProducerBuilder<byte[]?, byte[]?>(config)
            // The owner never produces; its connection chatter is not worth a log line.
            .SetLogHandler((_, _) => { })
            .Build();
        try
        {
            using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            if (metadata.Brokers.Count == 0) throw new InvalidOperationException("the mock cluster reported no brokers");
            BootstrapServers = string.Join(",", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));
            Brokers = metadata.Brokers.Count;
        }
        catch
        {
            _owner.Dispose();
            throw;
        }
    }

    /// <summary>Comma-separated loopback addresses of the mock brokers, for <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; }

    public int Brokers { get; }

    public void Dispose() => _owner.Dispose();
}
