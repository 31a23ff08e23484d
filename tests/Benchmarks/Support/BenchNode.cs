// One ContextLake node process for a scenario: a fresh journal (SQLite unless --postgres), the embedded-equivalent mock Kafka
// cluster as its Kafka, no connectors file; the sample domain's views readable before it is handed out.
using ContextLake.Connectors.Kafka;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Support;

public sealed class BenchNode : IAsyncDisposable
{
    private BenchNode(TestJournal journal, MockKafkaCluster kafka, NodeProcess node)
    {
        Journal = journal;
        Kafka = kafka;
        Process = node;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
        {
            BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public TestJournal Journal { get; }
    public MockKafkaCluster Kafka { get; }
    public NodeProcess Process { get; }
    public HttpClient Http { get; }

    public static async Task<BenchNode> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var journal = TestJournal.Create(Bench.Journal);
        var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        var environment = new Dictionary<string, string>(journal.Environment)
        {
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__ConnectorsFile"] = "",
            ["Logging__LogLevel__Default"] = "Warning",
            // A benchmark wants every write to complete, however loaded the machine: no 503 after 30 s.
            ["ContextLake__Http__WriteTimeout"] = "00:03:00",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) environment[k] = v;
        var node = await NodeProcess.StartReadyAsync(environment);
        var bench = new BenchNode(journal, kafka, node);
        await Bench.WaitReadable(bench.Http, "credits", "debits");
        return bench;
    }

    /// <summary>Adds a Kafka connector mapping the topic's records to transfers (idField id); returns its stream of partition 0.</summary>
    public async Task<string> AddTransferConnectorAsync(string name, string topic)
    {
        await Bench.Post(Http, "v1/connectors", System.Text.Json.JsonSerializer.Serialize(new
        {
            name,
            config = new
            {
                type = "kafka", topic, entityType = "transfer", idField = "id", batch = 500,
                properties = new Dictionary<string, string> { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "500" },
            },
        }));
        return $"kafka:{name}/{topic}/0";
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        Kafka.Dispose();
        await Journal.DisposeAsync();
    }
}
