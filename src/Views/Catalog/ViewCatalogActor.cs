// The view catalog (a persistent cluster singleton): creates and drops views, gives each creation its
// own incarnation, tells the entity partitions (which journal the change and backfill a new view from
// their own rows), counts the partitions whose backfill is delivered, and publishes every change. It also
// holds the entity schemas: views and schema changes are ordered here, so a view is created only against the
// schemas as they are, and a schema change that takes away or retypes a column a view reads is refused.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using ContextLake.Platform.Telemetry;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Views.Catalog;

public sealed class ViewCatalogActor : ReceivePersistentActor, IWithTimers
{
    private sealed record Nudge
    {
        public static Nudge Instance { get; } = new();
    }

    private readonly IActorRef _entities;
    private readonly int _partitions;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, ViewEntry> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> _backfilled = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SchemaEntry> _schemas = new(StringComparer.Ordinal);
    private long _nextIncarnation = 1;

    /// <param name="entities">The entity partitions' region: told when the catalog changes, they journal the change and backfill new views.</param>
    /// <param name="limits">Limits:MaxViewsPerSource is held here, where creates are ordered, whatever raced past the HTTP check.</param>
    public ViewCatalogActor(IActorRef entities, int partitions, LimitOptions limits)
    {
        _entities = entities;
        _partitions = partitions;

        Recover<ViewCreated>(Created);
        Recover<ViewDropped>(Dropped);
        Recover<ViewPartitionBackfilled>(PartitionDone);
        Recover<ViewBecameReady>(BecameReady);
        Recover<SchemaDeclared>(Declared);
        Recover<SchemaDeleted>(e => _schemas.Remove(e.Type));
        Recover<RecoveryCompleted>(_ =>
        {
            JournaledSingleton.Recovered(Context);
            Publish();
            NudgePartitions();
            Timers.StartPeriodicTimer("nudge", Nudge.Instance, TimeSpan.FromSeconds(5));
        });

        Command<CreateView>(c =>
        {
            if (_views.TryGetValue(c.Name, out var existing))
            {
                Sender.Tell(new ViewCatalogReply(existing, $"a view named '{c.Name}' already exists"));
                return;
            }
            var definition = ViewSql.Parse(c.Sql);
            try
            {
                ViewSql.Validate(definition, Schemas());
            }
            catch (ViewDefinitionException ex)
            {
                // The asker checked the view against its node's replica of the schemas, which may lag a change made here.
                Sender.Tell(new ViewCatalogReply(null, ex.Message));
                return;
            }
            var source = definition.Source;
            if (ViewSql.TooManyOnSource(source, Views().Count(v => v.Definition.Source == source), limits) is { } tooMany)
            {
                Sender.Tell(new ViewCatalogReply(null, tooMany));
                return;
            }
            var replyTo = Sender;
            Persist(new ViewCreated(c.Name, _nextIncarnation, c.Sql), e =>
            {
                Created(e);
                Publish();
                replyTo.Tell(new ViewCatalogReply(_views[e.Name], null));
                NudgePartitions();
            });
        });
        Command<DropView>(d =>
        {
            if (!_views.ContainsKey(d.Name))
            {
                Sender.Tell(new ViewCatalogReply(null, $"there is no view named '{d.Name}'"));
                return;
            }
            var replyTo = Sender;
            Persist(new ViewDropped(d.Name), e =>
            {
                var entry = _views[e.Name];
                Dropped(e);
                Publish();
                replyTo.Tell(new ViewCatalogReply(entry, null));
                NudgePartitions();
            });
        });
        Command<PartitionBackfilled>(p =>
        {
            if (!_views.TryGetValue(p.Name, out var v) || v.Incarnation != p.Incarnation || v.Status == ViewStatus.Ready) return;
            if (_backfilled.TryGetValue(p.Name, out var done) && done.Contains(p.Partition)) return;
            Persist(new ViewPartitionBackfilled(p.Name, p.Incarnation, p.Partition, p.Events), e =>
            {
                PartitionDone(e);
                if (_backfilled[e.Name].Count < _partitions)
                {
                    Publish();
                    return;
                }
                Persist(new ViewBecameReady(e.Name, e.Incarnation), ready =>
                {
                    BecameReady(ready);
                    Publish();
                    _log.Info("view {0} is ready ({1} events backfilled from {2} entity partitions)", ready.Name, _views[ready.Name].BackfilledEvents, _partitions);
                });
            });
        });
        Command<Nudge>(_ =>
        {
            if (_views.Values.Any(v => v.Status == ViewStatus.Backfilling)) NudgePartitions();
        });
        Command<PutSchema>(p =>
        {
            var schema = p.Schema;
            var current = _schemas.GetValueOrDefault(schema.Type);
            if (current is not null && (p.OnlyIfAbsent || current.SameAs(schema)))
            {
                Sender.Tell(new SchemaCatalogReply(SchemaOutcome.Unchanged, current, LastSequenceNr));
                return;
            }
            if (SchemaChanges.Conflict(schema.Type, current, schema, Views()) is { } conflict)
            {
                Sender.Tell(new SchemaCatalogReply(SchemaOutcome.InUse, current, LastSequenceNr, conflict));
                return;
            }
            var replyTo = Sender;
            Persist(new SchemaDeclared(schema.Type, schema.Fields, schema.Mode), e =>
            {
                Declared(e);
                Publish();
                replyTo.Tell(new SchemaCatalogReply(current is null ? SchemaOutcome.Created : SchemaOutcome.Replaced, _schemas[e.Type], LastSequenceNr));
                _log.Info("schema of {0} {1}: {2} ({3})", e.Type, current is null ? "declared" : "replaced",
                    string.Join(", ", e.Fields.Select(f => $"{f.Key} {f.Value}")), e.Mode);
            });
        });
        Command<DeleteSchema>(d =>
        {
            if (!_schemas.TryGetValue(d.Type, out var current))
            {
                Sender.Tell(new SchemaCatalogReply(SchemaOutcome.Unknown, null, LastSequenceNr));
                return;
            }
            if (SchemaChanges.Conflict(d.Type, current, null, Views()) is { } conflict)
            {
                Sender.Tell(new SchemaCatalogReply(SchemaOutcome.InUse, current, LastSequenceNr, conflict));
                return;
            }
            var replyTo = Sender;
            Persist(new SchemaDeleted(d.Type), e =>
            {
                _schemas.Remove(e.Type);
                Publish();
                replyTo.Tell(new SchemaCatalogReply(SchemaOutcome.Deleted, current, LastSequenceNr));
                _log.Info("schema of {0} deleted", e.Type);
            });
        });
        Command<GetViewCatalog>(_ => Sender.Tell(State()));
    }

    public override string PersistenceId => "view-catalog";

    public ITimerScheduler Timers { get; set; } = null!;

    private void Created(ViewCreated e)
    {
        _views[e.Name] = new ViewEntry(e.Name, e.Incarnation, e.Sql, ViewStatus.Backfilling, 0, _partitions);
        _backfilled[e.Name] = new HashSet<int>();
        Metrics.BackfillPartitions.WithLabels(e.Name, "done").Set(0);
        Metrics.BackfillPartitions.WithLabels(e.Name, "total").Set(_partitions);
        Metrics.BackfillEvents.WithLabels(e.Name).Set(0);
        _nextIncarnation = Math.Max(_nextIncarnation, e.Incarnation + 1);
    }

    private void Declared(SchemaDeclared e) => _schemas[e.Type] = SchemaEntry.Of(e.Type, e.Fields, e.Mode);

    /// <summary>The schemas as views are checked against.</summary>
    private EntitySchemas Schemas() => SchemaConfig.From(_schemas.Values);

    private IEnumerable<(string Name, ViewDefinition Definition)> Views() => _views.Values.Select(v => (v.Name, ViewSql.Parse(v.Sql)));

    private void Dropped(ViewDropped e)
    {
        _views.Remove(e.Name);
        _backfilled.Remove(e.Name);
    }

    private void PartitionDone(ViewPartitionBackfilled e)
    {
        if (!_views.TryGetValue(e.Name, out var v) || v.Incarnation != e.Incarnation) return;
        var done = _backfilled[e.Name];
        if (!done.Add(e.Partition)) return;
        _views[e.Name] = v with { BackfillDone = done.Count, BackfillTotal = _partitions, BackfilledEvents = v.BackfilledEvents + e.Events };
        Metrics.BackfillPartitions.WithLabels(e.Name, "done").Set(done.Count);
        Metrics.BackfillEvents.WithLabels(e.Name).Set(v.BackfilledEvents + e.Events);
    }

    private void BecameReady(ViewBecameReady e)
    {
        if (_views.TryGetValue(e.Name, out var v) && v.Incarnation == e.Incarnation)
            _views[e.Name] = v with { Status = ViewStatus.Ready, BackfillDone = _partitions, BackfillTotal = _partitions };
    }

    /// <summary>Every state change is journaled first, so the journal position is a version that only grows.</summary>
    private ViewCatalogState State() =>
        new(LastSequenceNr, _nextIncarnation, _views.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList(), _schemas.Values.ToList());

    private void Publish() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Publish(ViewTopics.Catalog, State()));

    /// <summary>Tells every entity partition to look at the catalog (they start backfills and report finished ones).</summary>
    private void NudgePartitions()
    {
        for (var p = 0; p < _partitions; p++) _entities.Tell(new CatalogChanged(KeyGroups.Id(p)));
    }
}

/// <summary>Keeps the local ViewCatalog current from the catalog's publications (and asks on start).</summary>
public sealed class ViewCatalogReplica : ReceiveActor, IWithTimers
{
    private sealed record AskCatalog
    {
        public static AskCatalog Instance { get; } = new();
    }

    public ViewCatalogReplica(ViewCatalog catalog, IActorRef catalogActor)
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(ViewTopics.Catalog, Self));
        Receive<SubscribeAck>(_ => { });
        Receive<ViewCatalogState>(catalog.Update);
        Receive<AskCatalog>(_ => catalogActor.Tell(GetViewCatalog.Instance));
        Timers.StartPeriodicTimer("ask", AskCatalog.Instance, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    public ITimerScheduler Timers { get; set; } = null!;
}
