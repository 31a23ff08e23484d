// The node's whole configuration (section "ContextLake" of appsettings.json, overridable by
// environment variables such as ContextLake__Journal__Provider). Validate() names every bad setting.
namespace ContextLake.Platform.Hosting;

public sealed class NodeOptions
{
    public const string Section = "ContextLake";

    public JournalOptions Journal { get; set; } = new();
    public HttpOptions Http { get; set; } = new();
    public ClusterNodeOptions Cluster { get; set; } = new();
    public EntityOptions Entities { get; set; } = new();
    public WriteLogOptions Writes { get; set; } = new();
    public EpochOptions Epochs { get; set; } = new();

    /// <summary>Entity type → field → number | string | boolean | time: what view definitions are checked against.</summary>
    public Dictionary<string, Dictionary<string, string>> Schemas { get; set; } = new();

    public KafkaOptions Kafka { get; set; } = new();
    public HealthOptions Health { get; set; } = new();

    /// <summary>A JSON file of connectors ([{"name", "config"}], the REST shape) created at startup when absent.</summary>
    public string? ConnectorsFile { get; set; } = "connectors.json";

    /// <summary>CREATE VIEW statements created at startup when absent.</summary>
    public List<string> Views { get; set; } = new();

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string setting, string message)
        {
            if (!ok) errors.Add($"{Section}:{setting}: {message}");
        }

        Check(Journal.Provider is JournalProvider.Sqlite or JournalProvider.PostgreSql, "Journal:Provider",
            $"'{Journal.Provider}' is not one of sqlite, postgresql");
        if (Journal.Provider == JournalProvider.Sqlite)
            Check(!string.IsNullOrWhiteSpace(Journal.DataDirectory), "Journal:DataDirectory", "must name a folder for the SQLite files");
        if (Journal.Provider == JournalProvider.PostgreSql)
            Check(!string.IsNullOrWhiteSpace(Journal.ConnectionString), "Journal:ConnectionString",
                "is required when Journal:Provider is postgresql (Host=…;Database=…;Username=…;Password=…)");
        Check(Journal.Parallelism is >= 1 and <= 64, "Journal:Parallelism", $"{Journal.Parallelism} is outside 1..64");

        foreach (var url in Http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            Check(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https", "Http:Urls",
                $"'{url}' is not an http:// or https:// address");
        Check(Http.MaxBodyBytes is >= 1024 and <= 1L << 30, "Http:MaxBodyBytes", $"{Http.MaxBodyBytes} is outside 1 KiB..1 GiB");
        Check(Http.MaxBatchEvents is >= 1 and <= 1_000_000, "Http:MaxBatchEvents", $"{Http.MaxBatchEvents} is outside 1..1000000");
        Check(Http.WriteTimeout > TimeSpan.Zero, "Http:WriteTimeout", "must be positive");
        Check(Http.ReadTimeout > TimeSpan.Zero, "Http:ReadTimeout", "must be positive");

        Check(!string.IsNullOrWhiteSpace(Cluster.Hostname), "Cluster:Hostname", "must not be empty");
        Check(Cluster.Port is >= 0 and <= 65535, "Cluster:Port", $"{Cluster.Port} is not a TCP port (0 picks a free one)");
        Check(Cluster.Shards is >= 1 and <= 10_000, "Cluster:Shards", $"{Cluster.Shards} is outside 1..10000");
        foreach (var seed in Cluster.SeedNodes)
            Check(seed.StartsWith("akka.tcp://", StringComparison.Ordinal), "Cluster:SeedNodes",
                $"'{seed}' is not an address like akka.tcp://contextlake@host:4053");
        if (Journal.Provider == JournalProvider.Sqlite && Cluster.SeedNodes.Length > 1)
            errors.Add($"{Section}:Cluster:SeedNodes: {Cluster.SeedNodes.Length} seed nodes form a cluster of several nodes, " +
                       $"but {Section}:Journal:Provider is sqlite, which serves one node only; use postgresql");

        Check(Entities.SnapshotEvery is >= 1, "Entities:SnapshotEvery", $"{Entities.SnapshotEvery} must be at least 1");
        Check(Entities.PassivateAfter > TimeSpan.Zero, "Entities:PassivateAfter", "must be positive");
        Check(Entities.AskTimeout > TimeSpan.Zero, "Entities:AskTimeout", "must be positive");

        Check(Writes.IdempotencyKeys is >= 0, "Writes:IdempotencyKeys", $"{Writes.IdempotencyKeys} must not be negative");
        Check(Writes.SnapshotEvery is >= 1, "Writes:SnapshotEvery", $"{Writes.SnapshotEvery} must be at least 1");
        Check(Epochs.PublishInterval >= TimeSpan.FromMilliseconds(1) && Epochs.PublishInterval <= TimeSpan.FromSeconds(10),
            "Epochs:PublishInterval", $"{Epochs.PublishInterval} is outside 1 ms..10 s");
        Check(Epochs.History >= TimeSpan.FromSeconds(1), "Epochs:History", $"{Epochs.History} must be at least one second");
        Check(Epochs.SnapshotEvery is >= 1, "Epochs:SnapshotEvery", $"{Epochs.SnapshotEvery} must be at least 1");
        foreach (var (type, fields) in Schemas)
        {
            Check(Events.EntityKey.IsValidType(type), $"Schemas:{type}", $"an entity type is {Events.Names.Rule}");
            foreach (var (field, kind) in fields)
                Check(kind is "number" or "string" or "boolean" or "time" or "vector", $"Schemas:{type}:{field}",
                    $"'{kind}' is not one of number, string, boolean, time, vector");
        }
        return errors;
    }
}

public sealed class HealthOptions
{
    /// <summary>/readyz fails when a stream has read past its committed offset and no epoch came for this long.</summary>
    public TimeSpan EpochStallAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>/readyz fails when a stream's uncommitted lag (offsets) exceeds this; 0 turns the check off.</summary>
    public long MaxStreamLag { get; set; }
}

public sealed class KafkaOptions
{
    /// <summary>Default bootstrap servers of Kafka connectors; empty: the node starts an embedded
    /// Kafka (librdkafka's mock cluster, for development) and uses it.</summary>
    public string BootstrapServers { get; set; } = "";
}

public sealed class EpochOptions
{
    /// <summary>How often the coordinator publishes a new epoch when a watermark moved.</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How far back reads with epoch=N may go; state older than this is folded.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromSeconds(30);

    public int SnapshotEvery { get; set; } = 1000;
}

public enum JournalProvider
{
    Sqlite,
    PostgreSql,
}

public sealed class JournalOptions
{
    public JournalProvider Provider { get; set; } = JournalProvider.Sqlite;

    /// <summary>SQLite only: folder of journal.db and snapshots.db.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>PostgreSQL only.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Concurrent journal writers; SQLite always uses one.</summary>
    public int Parallelism { get; set; } = 4;
}

public sealed class HttpOptions
{
    public string Urls { get; set; } = "http://127.0.0.1:8080";
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;
    public int MaxBatchEvents { get; set; } = 10_000;
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

public sealed class ClusterNodeOptions
{
    public string SystemName { get; set; } = "contextlake";
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port: right for one node; a cluster needs fixed ports.</summary>
    public int Port { get; set; }

    /// <summary>Empty: the node joins itself and forms a cluster of one.</summary>
    public string[] SeedNodes { get; set; } = [];

    /// <summary>Never changes for a cluster's life; about ten per node you expect.</summary>
    public int Shards { get; set; } = 100;
}

public sealed class EntityOptions
{
    public int SnapshotEvery { get; set; } = 1000;
    public TimeSpan PassivateAfter { get; set; } = TimeSpan.FromMinutes(2);
    public TimeSpan AskTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class WriteLogOptions
{
    /// <summary>How many recent idempotency keys are remembered (and survive restarts).</summary>
    public int IdempotencyKeys { get; set; } = 100_000;

    /// <summary>The HTTP write log snapshots after this many batches.</summary>
    public int SnapshotEvery { get; set; } = 500;
}
