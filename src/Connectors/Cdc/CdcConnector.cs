// The PostgreSQL change-data-capture connector: stream cdc:{connector}/{slot}. Each source transaction
// is applied as one run, so an epoch holds all of it or none; inserts and updates become upserts of the
// whole row (an update's before image is the entity's previous row, which views retract), deletes
// become deletes; the slot is acknowledged only up to what the committed epoch covers.
using System.Text.Json;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using ContextLake.Connectors.Framework;
using ContextLake.Platform.Events;
using DeadLetter = ContextLake.Connectors.Framework.DeadLetter;

namespace ContextLake.Connectors.Cdc;

public sealed class CdcConnectorFactory : IConnectorFactory
{
    /// <summary>A change's offset is its transaction's commit LSN shifted left by this, plus its index in the transaction.</summary>
    public const int IndexBits = 20;

    public string Type => "postgres-cdc";

    public ConnectorPlacement Placement => ConnectorPlacement.OncePerCluster;

    public void Validate(ConnectorConfig config)
    {
        Settings(config).Validate();
        Tables(config);
    }

    public IConnectorRun Start(ConnectorConfig config, ConnectorContext context)
    {
        Validate(config);
        return new CdcRun(config, context, Settings(config), Tables(config));
    }

    internal static CdcSettings Settings(ConnectorConfig config) => new(
        config.RequiredString("connectionString"),
        config.RequiredString("slot"),
        config.OptionalString("publication") ?? $"contextlake_{config.RequiredString("slot")}",
        Tables(config).Keys.ToList());

    /// <summary>Table → (entity type, id column): "table", "entityType", "idField" for one table.</summary>
    internal static IReadOnlyDictionary<string, (string EntityType, string IdField)> Tables(ConnectorConfig config)
    {
        var table = config.RequiredString("table");
        var entityType = config.RequiredString("entityType");
        if (!EntityKey.IsValidType(entityType))
            throw new ConnectorConfigException(config.Name, "entityType", $"'{entityType}' must be {Names.Rule}");
        var qualified = table.Contains('.') ? table : "public." + table;
        return new Dictionary<string, (string, string)> { [qualified] = (entityType, config.RequiredString("idField")) };
    }
}

internal sealed class CdcRun : IConnectorRun
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<ICdcControl> _control = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public CdcRun(ConnectorConfig config, ConnectorContext context, CdcSettings settings, IReadOnlyDictionary<string, (string EntityType, string IdField)> tables)
    {
        Completion = Run(context, settings, tables);
    }

    public Task Completion { get; }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_control.Task.IsCompletedSuccessfully) await _control.Task.Result.StopAsync();
    }

    private async Task Run(ConnectorContext context, CdcSettings settings, IReadOnlyDictionary<string, (string EntityType, string IdField)> tables)
    {
        await context.EpochKnownAsync(_stop.Token);
        var stream = $"cdc:{context.Name}/{settings.Slot}";
        var log = Logging.GetLogger(context.System, typeof(CdcRun));
        var lastTime = DateTimeOffset.MinValue;
        var (control, done) = PgCdcSource.Create(settings)
            .SelectAsync(1, async txn =>
            {
                await context.WhenRunning(_stop.Token);
                // Event time is arrival time, kept strictly increasing so that last-writer-wins follows commit order.
                var now = DateTimeOffset.UtcNow;
                lastTime = now > lastTime ? now : lastTime.AddTicks(1);
                var events = new List<IngestEvent>(txn.Changes.Count);
                var dead = new List<DeadLetter>();
                for (var i = 0; i < txn.Changes.Count; i++)
                {
                    var change = txn.Changes[i];
                    var offset = Offset(txn.Lsn, i);
                    var row = change.After ?? change.Before;
                    if (!tables.TryGetValue(change.Table, out var map) || row is null || !row.TryGetValue(map.IdField, out var id) || id.ValueKind == JsonValueKind.Null)
                    {
                        dead.Add(new DeadLetter(context.Name, stream, offset, JsonSerializer.SerializeToUtf8Bytes(change),
                            $"change of {change.Table} has no id column '{(tables.TryGetValue(change.Table, out var m) ? m.IdField : "?")}'", now));
                        continue;
                    }
                    var key = id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText();
                    if (change.Kind == CdcChangeKind.Delete)
                    {
                        events.Add(new IngestEvent(stream, offset, lastTime, map.EntityType, key, EventKind.Delete, EmptyObject));
                        continue;
                    }
                    var data = JsonSerializer.SerializeToElement(change.After);
                    if (context.Admission.Check(map.EntityType, data) is { } refused)
                    {
                        dead.Add(new DeadLetter(context.Name, stream, offset, JsonSerializer.SerializeToUtf8Bytes(change),
                            $"change of {change.Table}: {(refused.Path.Length == 0 ? "the row " + refused.Reason : $"column {refused.Path}: {refused.Reason}")}", now));
                        continue;
                    }
                    events.Add(new IngestEvent(stream, offset, lastTime, map.EntityType, key, EventKind.Upsert, data));
                }
                await context.DeadLetters.WriteAsync(dead, _stop.Token);
                var upTo = Offset(txn.Lsn, Math.Max(0, txn.Changes.Count - 1));
                var applied = await context.Runs.SubmitAsync(stream, events, upTo, upTo, _stop.Token);
                context.Report(stream, upTo, 0, dead.Count);
                _ = applied.ContinueWith(_ => context.Report(stream, upTo, upTo, 0), TaskContinuationOptions.OnlyOnRanToCompletion);
                AcknowledgeWhenCovered(context, stream, upTo, txn.Lsn, log);
                return txn.Lsn;
            })
            .ToMaterialized(Sink.Ignore<ulong>(), Keep.Both)
            .Run(context.System.Materializer());
        _control.SetResult(control);
        await done;
    }

    internal static long Offset(ulong lsn, int index) => checked((long)(lsn << CdcConnectorFactory.IndexBits) + index);

    /// <summary>The slot moves only as far as the committed epoch covers: a restart redelivers the rest.</summary>
    private void AcknowledgeWhenCovered(ConnectorContext context, string stream, long upTo, ulong lsn, ILoggingAdapter log) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await context.Clock.WaitAsync(e => e.Covers(stream, upTo), TimeSpan.FromMinutes(1), _stop.Token);
                (await _control.Task).Acknowledge(lsn);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                log.Warning("acknowledging {0} up to LSN {1} skipped: {2}", stream, CdcLsn.Format(lsn), ex.Message);
            }
        });
}
