// The node's whole configuration (section "ContextLake" of appsettings.json, overridable by
// environment variables such as ContextLake__Journal__Provider). Validate() names every bad setting.
namespace ContextLake.Platform.Hosting;

public sealed class NodeOptions
{
    public const string Section = "ContextLake";

    public JournalOptions Journal { get; set; } = new();
    public HttpOptions Http { get; set; } = new();
    public ClusterNodeOptions Cluster { get; set; } = new();
    public StateOptions State { get; set; } = new();
    public WriteLogOptions Writes { get; set; } = new();
    public EpochOptions Epochs { get; set; } = new();

    /// <summary>
    /// Entity type → field → number | string | boolean | time | vector: what view definitions are checked against, and the
    /// kind every event of the type must give the field (EventAdmission).
    /// </summary>
    public Dictionary<string, Dictionary<string, string>> Schemas { get; set; } = new();

    /// <summary>Declared type → strict (fields the schema does not declare are refused) or open (the default: they are taken).</summary>
    public Dictionary<string, string> SchemaModes { get; set; } = new();

    /// <summary>accept (the default): events of a type with no schema are taken as they come; refuse: they are refused.</summary>
    public string UndeclaredTypes { get; set; } = "accept";

    public KafkaOptions Kafka { get; set; } = new();
    public HealthOptions Health { get; set; } = new();
    public SubscriptionOptions Subscriptions { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();

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
        Check(Http.StandbyReadAfter > TimeSpan.Zero && Http.StandbyReadAfter <= Http.ReadTimeout, "Http:StandbyReadAfter",
            $"{Http.StandbyReadAfter} must be positive and at most Http:ReadTimeout ({Http.ReadTimeout})");

        Check(!string.IsNullOrWhiteSpace(Cluster.Hostname), "Cluster:Hostname", "must not be empty");
        Check(Cluster.Port is >= 0 and <= 65535, "Cluster:Port", $"{Cluster.Port} is not a TCP port (0 picks a free one)");
        foreach (var seed in Cluster.SeedNodes)
            Check(seed.StartsWith("akka.tcp://", StringComparison.Ordinal), "Cluster:SeedNodes",
                $"'{seed}' is not an address like akka.tcp://contextlake@host:4053");
        if (Journal.Provider == JournalProvider.Sqlite && Cluster.SeedNodes.Length > 1)
            errors.Add($"{Section}:Cluster:SeedNodes: {Cluster.SeedNodes.Length} seed nodes form a cluster of several nodes, " +
                       $"but {Section}:Journal:Provider is sqlite, which serves one node only; use postgresql");
        else if (Journal.Provider == JournalProvider.Sqlite && Cluster.SeedNodes.Length == 1 && !Cluster.IsSelf(Cluster.SeedNodes[0]))
            errors.Add($"{Section}:Cluster:SeedNodes: '{Cluster.SeedNodes[0]}' is another node ({Cluster.SelfAddress} is this one), so this node " +
                       $"would join a cluster of several nodes, but {Section}:Journal:Provider is sqlite, which serves one node only; use postgresql");
        Check(Cluster.HeartbeatPause >= TimeSpan.FromMilliseconds(500) && Cluster.HeartbeatPause <= TimeSpan.FromMinutes(1), "Cluster:HeartbeatPause",
            $"{Cluster.HeartbeatPause} is outside 0.5 s..1 min");
        Check(Cluster.StableAfter >= TimeSpan.FromSeconds(1) && Cluster.StableAfter <= TimeSpan.FromMinutes(10), "Cluster:StableAfter",
            $"{Cluster.StableAfter} is outside 1 s..10 min");
        Check(Cluster.DownRemovalMargin >= TimeSpan.FromMilliseconds(100) && Cluster.DownRemovalMargin <= TimeSpan.FromMinutes(10), "Cluster:DownRemovalMargin",
            $"{Cluster.DownRemovalMargin} is outside 0.1 s..10 min (Akka's 'off' would mean Cluster:StableAfter; set that value instead)");
        Check(Cluster.DrainPeriod >= TimeSpan.Zero && Cluster.DrainPeriod <= TimeSpan.FromMinutes(1), "Cluster:DrainPeriod",
            $"{Cluster.DrainPeriod} is outside 0..1 min");

        Check(State.SnapshotWhenIdle >= TimeSpan.Zero && State.SnapshotWhenIdle <= TimeSpan.FromHours(1), "State:SnapshotWhenIdle",
            $"{State.SnapshotWhenIdle} is outside 0..1 h");
        Check(State.Partitions is >= 0 and <= StateOptions.MaxPartitions, "State:Partitions",
            $"{State.Partitions} is outside 1..{StateOptions.MaxPartitions} (or 0: the journal's count, or the provider's default on a new journal)");
        Check(State.SnapshotEvery is >= 1, "State:SnapshotEvery", $"{State.SnapshotEvery} must be at least 1");
        Check(State.Standbys is 0 or 1, "State:Standbys", $"{State.Standbys} must be 0 (no standbys) or 1 (one per partition, on another node)");
        Check(State.StandbyPoll >= TimeSpan.FromMilliseconds(10) && State.StandbyPoll <= TimeSpan.FromMinutes(1), "State:StandbyPoll",
            $"{State.StandbyPoll} is outside 10 ms..1 min");
        Check(State.RetryAfter >= TimeSpan.FromMilliseconds(100) && State.RetryAfter <= TimeSpan.FromMinutes(5), "State:RetryAfter",
            $"{State.RetryAfter} is outside 100 ms..5 min");
        Check(State.RunsInFlight is >= 1 and <= 1024, "State:RunsInFlight", $"{State.RunsInFlight} is outside 1..1024");
        Check(State.EventsInFlight is >= 1 and <= 10_000_000, "State:EventsInFlight", $"{State.EventsInFlight} is outside 1..10000000");
        Check(State.MessageBytes is >= 4096 and <= 16 * 1024 * 1024, "State:MessageBytes", $"{State.MessageBytes} is outside 4 KiB..16 MiB");

        Check(Writes.IdempotencyKeys is >= 0, "Writes:IdempotencyKeys", $"{Writes.IdempotencyKeys} must not be negative");
        Check(Writes.SnapshotEvery is >= 1, "Writes:SnapshotEvery", $"{Writes.SnapshotEvery} must be at least 1");
        Check(Limits.MaxNameLength is >= 1 and <= 1024, "Limits:MaxNameLength", $"{Limits.MaxNameLength} is outside 1..1024");
        Check(Limits.MaxAggregates is >= 1 and <= 1024, "Limits:MaxAggregates", $"{Limits.MaxAggregates} is outside 1..1024");
        Check(Limits.MaxViewsPerSource is >= 1 and <= 10_000, "Limits:MaxViewsPerSource", $"{Limits.MaxViewsPerSource} is outside 1..10000");
        Check(Limits.MaxReadKeys is >= 1 and <= 100_000, "Limits:MaxReadKeys", $"{Limits.MaxReadKeys} is outside 1..100000");
        Check(Limits.MaxEventBytes is >= 1024, "Limits:MaxEventBytes", $"{Limits.MaxEventBytes} must be at least 1024");
        Check(Limits.MaxViewSqlLength is >= 64 and <= 1_048_576, "Limits:MaxViewSqlLength", $"{Limits.MaxViewSqlLength} is outside 64..1048576");
        Check(Writes.MaxPendingEvents is >= 1, "Writes:MaxPendingEvents", $"{Writes.MaxPendingEvents} must be at least 1");
        Check(Writes.Streams is >= 0 and <= 1024, "Writes:Streams", $"{Writes.Streams} is outside 0..1024 (0: the journal's recorded count)");
        Check(Writes.SnapshotWhenIdle >= TimeSpan.Zero && Writes.SnapshotWhenIdle <= TimeSpan.FromHours(1), "Writes:SnapshotWhenIdle",
            $"{Writes.SnapshotWhenIdle} is outside 0..1 h");
        Check(Epochs.PublishInterval >= TimeSpan.FromMilliseconds(1) && Epochs.PublishInterval <= TimeSpan.FromSeconds(10),
            "Epochs:PublishInterval", $"{Epochs.PublishInterval} is outside 1 ms..10 s");
        Check(Epochs.History >= TimeSpan.FromSeconds(1), "Epochs:History", $"{Epochs.History} must be at least one second");
        Check(Epochs.Retention >= Epochs.History, "Epochs:Retention", $"{Epochs.Retention} must be at least Epochs:History ({Epochs.History})");
        Check(Epochs.SnapshotEvery is >= 1, "Epochs:SnapshotEvery", $"{Epochs.SnapshotEvery} must be at least 1");
        Check(Subscriptions.MaxSubscribers is >= 0 and <= 100_000, "Subscriptions:MaxSubscribers", $"{Subscriptions.MaxSubscribers} is outside 0..100000");
        Check(Subscriptions.MaxLagEpochs is >= 1 and <= 1_000_000, "Subscriptions:MaxLagEpochs", $"{Subscriptions.MaxLagEpochs} is outside 1..1000000");
        Check(Subscriptions.MaxKeys is >= 1 and <= 10_000, "Subscriptions:MaxKeys", $"{Subscriptions.MaxKeys} is outside 1..10000");
        Check(Subscriptions.LogKeys is >= 1000, "Subscriptions:LogKeys", $"{Subscriptions.LogKeys} must be at least 1000");
        Check(Subscriptions.KeepAlive >= TimeSpan.FromMilliseconds(100), "Subscriptions:KeepAlive", $"{Subscriptions.KeepAlive} must be at least 100 ms");
        Check(Subscriptions.NoticeTimeout >= TimeSpan.FromSeconds(1), "Subscriptions:NoticeTimeout", $"{Subscriptions.NoticeTimeout} must be at least one second");
        foreach (var (type, fields) in Schemas)
        {
            Check(Events.EntityKey.IsValidType(type), $"Schemas:{type}", $"an entity type is {Events.Names.Rule}");
            foreach (var (field, kind) in fields)
                Check(Events.EventAdmission.Kinds.Contains(kind), $"Schemas:{type}:{field}",
                    $"'{kind}' is not one of {string.Join(", ", Events.EventAdmission.Kinds)}");
        }
        foreach (var (type, mode) in SchemaModes)
        {
            Check(Schemas.ContainsKey(type), $"SchemaModes:{type}", $"'{type}' has no schema (Schemas:{type})");
            Check(Events.EventAdmission.Modes.Contains(mode), $"SchemaModes:{type}", $"'{mode}' is not one of strict, open");
        }
        Check(UndeclaredTypes is "accept" or "refuse", "UndeclaredTypes", $"'{UndeclaredTypes}' is not one of accept, refuse");
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

public sealed class SubscriptionOptions
{
    /// <summary>Live subscriptions (GET /v1/subscribe) this node serves at once; one more is refused with 503.</summary>
    public int MaxSubscribers { get; set; } = 1000;

    /// <summary>How many epochs a subscriber may fall behind the node's latest before it is cut off: its queue bound.</summary>
    public int MaxLagEpochs { get; set; } = 1000;

    /// <summary>Most keys one subscription may name.</summary>
    public int MaxKeys { get; set; } = 100;

    /// <summary>Most changed view keys the node's change log holds (besides the history horizon that bounds it).</summary>
    public int LogKeys { get; set; } = 1_000_000;

    /// <summary>A comment line is sent when a subscription has been quiet this long, so proxies keep it open.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>An epoch whose change notices have not all reached this node within this long ends its subscriptions (they resubscribe).</summary>
    public TimeSpan NoticeTimeout { get; set; } = TimeSpan.FromSeconds(10);
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
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How far back reads with epoch=N may go; state older than this is folded.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the coordinator's journal keeps each epoch's record (n, vector, time): an epoch=N read older than
    /// <see cref="History"/> is answered from the journal while its record is kept, and is a 410 after.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

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

    /// <summary>SQLite only: <c>normal</c> survives any process crash, <c>full</c> also power loss (an fsync per commit).</summary>
    public Journal.SqliteSynchronous SqliteSynchronous { get; set; } = Journal.SqliteSynchronous.Normal;
}

public sealed class HttpOptions
{
    public string Urls { get; set; } = "http://127.0.0.1:8080";
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;
    public int MaxBatchEvents { get; set; } = 10_000;
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A stale-ok read asks a partition's standby (State:Standbys) when the partition's owner on another node has not answered
    /// within this, and at once while the owner is unreachable: so a failover never pauses such reads for long.
    /// </summary>
    public TimeSpan StandbyReadAfter { get; set; } = TimeSpan.FromMilliseconds(250);
}

public sealed class ClusterNodeOptions
{
    public string SystemName { get; set; } = "contextlake";
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port: right for one node; a cluster needs fixed ports.</summary>
    public int Port { get; set; }

    /// <summary>Empty: the node joins itself and forms a cluster of one.</summary>
    public string[] SeedNodes { get; set; } = [];

    /// <summary>
    /// How long a member may go unheard (no heartbeat answered) before the others mark it unreachable: Akka's failure detector's
    /// acceptable-heartbeat-pause, with heartbeats every quarter of it (at most 1 s). A stall of the whole process (a GC pause, a
    /// stalled host) longer than this and <see cref="StableAfter"/> together gets the node downed; see docs/operations.md.
    /// </summary>
    public TimeSpan HeartbeatPause { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The split-brain resolver (keep-majority) decides only after the members it cannot reach stayed
    /// the same this long; then it downs the unreachable ones (or, on the minority side, itself).</summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// After a downed member is removed, how long before its shards and singletons start on the survivors (Akka's
    /// down-removal-margin): time for the other side of a network partition, which downs itself, to stop its actors. The journal
    /// fences a writer that outlives it (see docs/operations.md), so it is short.
    /// </summary>
    public TimeSpan DownRemovalMargin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The failure detector's heartbeat interval: a quarter of <see cref="HeartbeatPause"/>, between 0.2 and 1 s.</summary>
    public TimeSpan HeartbeatInterval => TimeSpan.FromMilliseconds(Math.Clamp(HeartbeatPause.TotalMilliseconds / 4, 200, 1000));

    /// <summary>On SIGTERM the node answers 503 with Retry-After (and /readyz fails) for this long before it stops
    /// listening, so clients and load balancers move to other nodes before connections are refused.</summary>
    public TimeSpan DrainPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>This node's Akka address as seed nodes spell it.</summary>
    public string SelfAddress => $"akka.tcp://{SystemName}@{Hostname}:{Port}";

    /// <summary>True when <paramref name="seed"/> names this node (the first node of a cluster lists itself).</summary>
    public bool IsSelf(string seed) => string.Equals(seed.TrimEnd('/'), SelfAddress, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The state engine: key-group partitions of entities and view keys (see src/Platform/State).</summary>
public sealed class StateOptions
{
    public const int MaxPartitions = 1024;

    /// <summary>
    /// Key groups per region (entities, view keys), fixed for the journal's life: recorded in it on first start. Zero (the
    /// default) takes the count the journal recorded, or on a new journal <see cref="DefaultPartitions"/> for its provider.
    /// </summary>
    public int Partitions { get; set; }

    /// <summary>
    /// The count a new journal gets when none is configured. SQLite serves one node through one writer: every partition a run
    /// touches writes a row of its own and the run waits for the slowest, so few partitions mean fewer, larger rows and less
    /// waiting (on a 2-core machine at 20,000 ev/s, 4 partitions instead of 16 cut a run's mean apply time from 25 to 9 ms and
    /// the node's CPU per event by a quarter, and raised the Kafka backlog rate by a tenth). PostgreSQL serves clusters,
    /// which need more partitions than nodes so that sharding can spread them.
    /// </summary>
    public static int DefaultPartitions(JournalProvider provider) => provider == JournalProvider.Sqlite ? 4 : 16;

    /// <summary>
    /// A partition snapshots its state (between writes) once the rows since its last snapshot hold this many changes, and at
    /// least as many as it has keys: the recovery tail stays short and a snapshot's cost is spread over what it saves.
    /// </summary>
    public int SnapshotEvery { get; set; } = 20_000;

    /// <summary>
    /// A partition that has written nothing for this long snapshots early, once the rows since its last snapshot hold an
    /// eighth as many changes as it has keys: after a burst, a restart is its snapshot and no tail. Zero turns it off.
    /// </summary>
    public TimeSpan SnapshotWhenIdle { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A run a partition has not confirmed after this long is sent again (the partitions drop what they have).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Runs of one stream being applied at once: the next run starts while earlier ones are journaled.</summary>
    public int RunsInFlight { get; set; } = 16;

    /// <summary>
    /// Events accepted on this node (every stream's runs) and not yet applied everywhere: past it, sources wait for runs to
    /// finish, so the queue in front of the partitions (and the time from a run's submit to applied) stays bounded.
    /// </summary>
    public int EventsInFlight { get; set; } = 20_000;

    /// <summary>Most bytes in one message between partitions: parts and batches are cut below Akka.Remote's frame size.</summary>
    public int MessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Warm standbys per partition on other nodes (0 or 1): a standby follows its partition's journal rows, answers stale-ok
    /// reads while the owner is unreachable, and is where sharding moves the partition on failover, which then takes the
    /// standby's state instead of recovering. Each standby costs its node the partition's memory and the CPU of applying its rows.
    /// </summary>
    public int Standbys { get; set; } = 1;

    /// <summary>How often a standby reads the rows its partition journaled since its last read: how far it lags the owner.</summary>
    public TimeSpan StandbyPoll { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>Size limits on view definitions (POST /v1/views), reads and events, each named in the problem that refuses one.</summary>
public sealed class LimitOptions
{
    /// <summary>
    /// Characters in a view's name and in each of its column names (the group key's alias and the aggregates'), and in a
    /// schema's type and field names.
    /// </summary>
    public int MaxNameLength { get; set; } = 64;

    /// <summary>
    /// The refusal of a <paramref name="what"/> name ("column", "type", "field") past <see cref="MaxNameLength"/>, quoting its
    /// first 16 characters (the whole of it can be thousands); null when it fits.
    /// </summary>
    public string? NameTooLong(string what, string name) =>
        name.Length <= MaxNameLength
            ? null
            : $"the {what} name '{name[..Math.Min(16, name.Length)]}…' has {name.Length} characters; at most {MaxNameLength} are accepted (setting ContextLake:Limits:MaxNameLength)";

    /// <summary>Aggregates in one view.</summary>
    public int MaxAggregates { get; set; } = 32;

    /// <summary>Views reading one entity type: each multiplies the projection work of every event of the type.</summary>
    public int MaxViewsPerSource { get; set; } = 32;

    /// <summary>Characters in one CREATE VIEW statement.</summary>
    public int MaxViewSqlLength { get; set; } = 8_192;

    /// <summary>Items (entities, view keys, searches) in one decision read (POST /v1/read).</summary>
    public int MaxReadKeys { get; set; } = 1_000;

    /// <summary>Bytes of one event's data (its JSON as sent) in a write.</summary>
    public int MaxEventBytes { get; set; } = 1_048_576;
}

public sealed class WriteLogOptions
{
    /// <summary>
    /// HTTP write streams: each its own write log ("http:writes" when there is one, "http:writes/0"… when there are several),
    /// placed on nodes by sharding. Fixed for a journal's life (an idempotency key's stream is its hash modulo the count); unset
    /// (0) takes the count the journal recorded, or on a new journal <see cref="DefaultStreams"/> for its provider.
    /// </summary>
    public int Streams { get; set; }

    /// <summary>One stream for SQLite (one node, one writer); eight for PostgreSQL, so a cluster's writes spread over its nodes.</summary>
    public static int DefaultStreams(JournalProvider provider) => provider == JournalProvider.Sqlite ? 1 : 8;

    /// <summary>How many recent idempotency keys are remembered (and survive restarts).</summary>
    public int IdempotencyKeys { get; set; } = 100_000;

    /// <summary>The HTTP write log snapshots once this many events were journaled since its last snapshot.</summary>
    public int SnapshotEvery { get; set; } = 100_000;

    /// <summary>The write log, quiet (nothing buffered or waiting) for this long, snapshots what it journaled since its last snapshot. Zero turns it off.</summary>
    public TimeSpan SnapshotWhenIdle { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Events the write streams together hold accepted but not yet applied (journaled or about to be), each stream a
    /// Streams-th of it; a batch that would take its stream past its share is refused at once (HTTP 429 with Retry-After),
    /// with nothing of it written. A batch is always taken when its stream holds nothing.
    /// </summary>
    public int MaxPendingEvents { get; set; } = 100_000;
}
