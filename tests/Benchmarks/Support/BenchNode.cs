// One ContextLake node process for a scenario: a fresh journal (SQLite unless --postgres), the embedded-equivalent mock Kafka
// cluster as its Kafka, no connectors file; the sample domain's views readable before it is handed out. It can be killed
// (SIGKILL) and started again on the same journal, Kafka and port, as an operator restarts a crashed node.
using ContextLake.Connectors.Kafka;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Support;

public sealed class BenchNode : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _environment;

    private BenchNode(TestJournal journal, MockKafkaCluster kafka, NodeProcess node, IReadOnlyDictionary<string, string> environment)
    {
        _environment = environment;
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
    public NodeProcess Process { get; private set; }
    public HttpClient Http { get; }

    /// <summary>How long the first start on the empty journal took, from the process's start to /readyz 200.</summary>
    public TimeSpan StartedIn { get; private init; }

    /// <summary>CPU seconds the node process used for that first start.</summary>
    public double StartCpuSeconds { get; private init; }

    public static async Task<BenchNode> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var journal = TestJournal.Create(Bench.Journal);
        var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        var environment = new Dictionary<string, string>(journal.Environment)
        {
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__ConnectorsFile"] = "",
            ["Logging__LogLevel__Default"] = "Warning",
            // The CPU profiles name the methods the JIT compiled again at tier 1 (the hottest), not "anonymous code".
            ["DOTNET_PerfMapEnabled"] = "1",
            // A benchmark wants every write to complete, however loaded the machine: no 503 after 30 s.
            ["ContextLake__Http__WriteTimeout"] = "00:03:00",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) environment[k] = v;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var node = await NodeProcess.StartReadyAsync(environment);
        var bench = new BenchNode(journal, kafka, node, environment) { StartedIn = clock.Elapsed, StartCpuSeconds = NodeUsage.ProcessCpuSeconds(node.Id) };
        await Bench.WaitReadable(bench.Http, "credits", "debits");
        return bench;
    }

    /// <summary>kill -9, then the node process started again on the same journal, Kafka and port; returns once it is started, not ready.</summary>
    public async Task KillAndStartAgainAsync()
    {
        await Process.KillAsync();
        var port = Process.Port;
        await Process.DisposeAsync();
        Process = NodeProcess.Start(_environment, port);
    }

    /// <summary>
    /// Adds a Kafka connector mapping the records of <paramref name="topics"/> to transfers (idField id), <paramref name="batch"/> records
    /// per run at most and <paramref name="buffer"/> records held per partition; returns the node's stream of each partition.
    /// </summary>
    public async Task<string[]> AddTransferConnectorAsync(string name, BankTopics topics, int batch = 500, int buffer = 1000)
    {
        await Bench.Post(Http, "v1/connectors", System.Text.Json.JsonSerializer.Serialize(new
        {
            name,
            config = new
            {
                type = "kafka", topics = string.Join(",", topics.Topics), entityType = "transfer", idField = "id", batch, maxBufferPerPartition = buffer,
                properties = new Dictionary<string, string> { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "500", ["fetch.wait.max.ms"] = "1" },
            },
        }));
        return topics.Streams(name);
    }

    /// <summary>Events a connector's runs have applied so far (`contextlake_ingest_events_total`): every record it read, or fewer when some were lost.</summary>
    public async Task<long> IngestedAsync(string connector) =>
        (long)Bench.Scraped(await Bench.GetText(Http, "metrics"), "contextlake_ingest_events_total{", $"connector=\"{connector}\"");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        Kafka.Dispose();
        await Journal.DisposeAsync();
    }
}
