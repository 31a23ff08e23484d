// The ContextLake node: an ASP.NET Core gateway hosting the Akka.NET actor system in one process.
using Akka.Actor;
using Akka.Hosting;
using Prometheus;
using ContextLake.Connectors.Framework;
using ContextLake.Connectors.Http;
using ContextLake.Connectors.Kafka;
using ContextLake.Gateway.Admin;
using ContextLake.Gateway.Decisions;
using ContextLake.Gateway.Connectors;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Operations;
using ContextLake.Gateway.Reads;
using ContextLake.Gateway.Resp;
using ContextLake.Gateway.Schemas;
using ContextLake.Gateway.Subscriptions;
using ContextLake.Gateway.Views;
using ContextLake.Gateway.Writes;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using ContextLake.Platform.State;
using ContextLake.Platform.Telemetry;
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Hosting;
using ContextLake.Views.Projection;
using ContextLake.Views.Sql;
using ContextLake.Views.Subscriptions;

// The journal's SQLite driver blocks its thread under async calls (recoveries of many partitions at once, big rows): keep
// enough pool threads ready that a burst of them does not starve the actors' dispatcher (heartbeats, epochs) for seconds.
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 4 * Environment.ProcessorCount + 8), minIo);

// Settings files are read from beside the binary, wherever the node is started; ./data is relative to the working folder.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// Each project's settings section; a value the binder cannot convert stops startup. Its message names the setting:
// "Failed to convert configuration value at 'ContextLake:…'".
T? Bind<T>(string section) where T : class, new()
{
    try
    {
        return builder.Configuration.GetSection(section).Get<T>() ?? new T();
    }
    catch (InvalidOperationException ex)
    {
        Console.Error.WriteLine($"contextlake: bad configuration: {ex.Message}");
        return null;
    }
}
if (Bind<NodeOptions>(NodeOptions.Section) is not { } options || Bind<AdminOptions>(AdminOptions.Section) is not { } adminOptions
    || Bind<RespOptions>(RespOptions.Section) is not { } respOptions || Bind<DecisionOptions>(DecisionOptions.Section) is not { } decisionOptions)
    return 2;

var errors = options.Validate().Concat(adminOptions.Validate()).Concat(respOptions.Validate()).Concat(decisionOptions.Validate()).ToList();
if (errors.Count == 0)
{
    // The configured views are checked against the configured schemas (the catalog checks them again when it creates them).
    var schemas = SchemaConfig.From(options.Schemas);
    for (var i = 0; i < options.Views.Count; i++)
    {
        try
        {
            ViewSql.Validate(ViewSql.Parse(options.Views[i]), schemas);
        }
        catch (ViewDefinitionException ex)
        {
            errors.Add($"{NodeOptions.Section}:Views:{i}: {ex.Message}");
        }
    }
}
if (errors.Count > 0)
{
    foreach (var error in errors) Console.Error.WriteLine($"contextlake: bad configuration: {error}");
    return 2;
}

var journal = new JournalDatabase(options.Journal);
try
{
    journal.Prepare();
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
{
    Console.Error.WriteLine($"contextlake: bad configuration: {NodeOptions.Section}:Journal:DataDirectory: cannot prepare the SQLite files in '{options.Journal.DataDirectory}': {ex.Message}");
    return 2;
}
// The partition count is recorded in the journal on first start: a node counting differently would look for keys in the wrong partitions.
try
{
    if (await PartitionLayout.VerifyAsync(journal, options.State) is { } layoutProblem)
    {
        Console.Error.WriteLine($"contextlake: bad configuration: {layoutProblem}");
        return 2;
    }
    // So is the count of HTTP write streams: an idempotency key's stream is its hash modulo the count.
    if (await WriteStreamLayout.VerifyAsync(journal, options.Writes) is { } streamsProblem)
    {
        Console.Error.WriteLine($"contextlake: bad configuration: {streamsProblem}");
        return 2;
    }
}
catch (System.Data.Common.DbException ex)
{
    Console.Error.WriteLine($"contextlake: the journal at {NodeOptions.Section}:Journal does not answer: {ex.Message}");
    return 2;
}

var writeStreams = new WriteStreams(options.Writes.Streams);

var clock = new EpochClock(options.Epochs.History);
// What every event meets before it is journaled, from HTTP and from every connector alike; the catalog's replica keeps
// its schemas current (the configured ones until the catalog has them, then the catalog's, changed at run time).
var admission = new EventAdmission(options);
var catalog = new ViewCatalog(admission, SchemaEntry.Configured(options));
var localPartitions = new LocalPartitions();
var partitionOwners = new PartitionOwners();
var projections = new ViewProjections(catalog, options.State.Partitions);
var subscriptions = new SubscriptionHub(clock, options.Subscriptions);

// Without configured Kafka brokers the node embeds librdkafka's mock cluster, for development.
MockKafkaCluster? embeddedKafka = null;
var kafkaServers = options.Kafka.BootstrapServers;
if (string.IsNullOrWhiteSpace(kafkaServers))
{
    embeddedKafka = new MockKafkaCluster();
    kafkaServers = embeddedKafka.BootstrapServers;
    Console.WriteLine($"contextlake: embedded Kafka (librdkafka mock cluster) at {kafkaServers}; e.g. kcat -b {kafkaServers} -t card_tx -P");
}
var connectorTypes = ConfiguredConnectors.BuiltInTypes(() => kafkaServers);
IReadOnlyList<(string Name, string ConfigJson)> configuredConnectors;
try
{
    configuredConnectors = ConfiguredConnectors.Load(options.ConnectorsFile, connectorTypes);
}
catch (Exception ex) when (ex is ConnectorConfigException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"contextlake: bad configuration: {NodeOptions.Section}:ConnectorsFile: {ex.Message}");
    return 2;
}
var deadLetters = new DeadLetterStore(journal);

builder.WebHost.ConfigureKestrel(k =>
{
    k.Limits.MaxRequestBodySize = options.Http.MaxBodyBytes;
    k.ListenHttp(options.Http.Urls);
    k.ListenResp(respOptions);
});
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(adminOptions);
builder.Services.AddSingleton(respOptions);
builder.Services.AddSingleton(decisionOptions);
builder.Services.AddSingleton(sp => new DecisionLog(journal, decisionOptions));
builder.Services.AddSingleton<IDecisionChecker, JournalDecisionChecker>();
builder.Services.AddSingleton<Reconciliations>();
builder.Services.AddSingleton(journal);
builder.Services.AddSingleton(writeStreams);
builder.Services.AddSingleton(clock);
builder.Services.AddSingleton(catalog);
builder.Services.AddSingleton(localPartitions);
builder.Services.AddSingleton(partitionOwners);
builder.Services.AddSingleton<StateReader>();
builder.Services.AddSingleton(new SaturationGate(TimeProvider.System));
builder.Services.AddSingleton(subscriptions);
builder.Services.AddSingleton<SharedViewReads>();
builder.Services.AddSingleton(connectorTypes);
builder.Services.AddSingleton(deadLetters);
builder.Services.AddSingleton(admission);
builder.Services.AddSingleton<NodeDrain>();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = GracefulLeave.ShutdownTimeout(options));
builder.Services.AddHostedService(sp => new ConfiguredConnectors(configuredConnectors, sp.GetRequiredService<ActorRegistry>(), sp.GetRequiredService<ILogger<ConfiguredConnectors>>()));
builder.Services.AddSingleton<ConfiguredViews>();
builder.Services.AddHostedService(services => services.GetRequiredService<ConfiguredViews>());
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o =>
    o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);
builder.Services.AddOpenApi(o => o.AddDocumentedBodies());
builder.Services.AddAkka(options.Cluster.SystemName, akka => akka
    .WithContextLakePlatform(options, journal, clock, projections, projections, localPartitions)
    .WithContextLakeViews(options, catalog, clock, projections, localPartitions, subscriptions)
    .WithPartitionKeeper(options, partitionOwners, clock, catalog, projections, localPartitions)
    .WithFailoverTelemetry(partitionOwners)
    .WithHttpWriteStreams(options, clock, writeStreams)
    .WithConnectors(options, clock, connectorTypes, deadLetters, admission));

var app = builder.Build();
app.UseGracefulLeave(options);
app.UseStatusCodePages();
app.UseHttpMetrics();
app.MapMetrics("/metrics");
app.MapOpenApi();
app.MapHealthEndpoints();
app.MapWriteEndpoints();
app.MapEntityEndpoints();
app.MapDecisionReadEndpoints();
app.MapReconciliationEndpoints();
app.MapViewEndpoints();
app.MapSchemaEndpoints();
app.MapSubscriptionEndpoints();
app.MapConnectorEndpoints();
app.MapAdminEndpoints(adminOptions);

// The decision log's table exists before the first read can name a decision.
try
{
    await app.Services.GetRequiredService<DecisionLog>().EnsureAsync(CancellationToken.None);
}
catch (System.Data.Common.DbException ex)
{
    Console.Error.WriteLine($"contextlake: the decision log beside the journal ({NodeOptions.Section}:Journal) cannot be prepared: {ex.Message}");
    await app.DisposeAsync();
    embeddedKafka?.Dispose();
    return 2;
}

app.Logger.LogInformation("ContextLake node: journal {Provider}, HTTP {Urls}, Redis protocol {Resp}", options.Journal.Provider, options.Http.Urls,
    string.IsNullOrWhiteSpace(respOptions.Urls) ? "off" : respOptions.Urls);
try
{
    await app.StartAsync();
}
catch (IOException ex)
{
    // A port taken by another process: say which setting names it.
    Console.Error.WriteLine($"contextlake: cannot listen (settings {NodeOptions.Section}:Http:Urls '{options.Http.Urls}', {RespOptions.Section}:Urls '{respOptions.Urls}'): {ex.Message}");
    await app.DisposeAsync();
    embeddedKafka?.Dispose();
    return 2;
}
await app.WaitForShutdownAsync();
// A node the cluster downed (unreachable for longer than Cluster:HeartbeatPause and Cluster:StableAfter, or downed by an
// operator) stops; it exits 3, not 0, so that a supervisor restarting on failure starts it again and it rejoins.
var downed = CoordinatedShutdown.Get(app.Services.GetRequiredService<ActorSystem>()).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;
if (downed) Console.Error.WriteLine("contextlake: the cluster downed this node (see docs/operations.md, \"Failover\"); exiting with 3 so that it is started again");
await app.DisposeAsync();
embeddedKafka?.Dispose();
return downed ? 3 : 0;
