// The view catalog (a persistent cluster singleton): creates and drops views, gives each creation its
// own incarnation, runs the backfill of a new view from the journal, and publishes every change.
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;

namespace ContextLake.Views.Catalog;

public sealed class ViewCatalogActor : ReceivePersistentActor
{
    private readonly Func<ViewEntry, Props> _backfillProps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, ViewEntry> _views = new(StringComparer.Ordinal);
    private long _nextIncarnation = 1;
    private long _version;

    public ViewCatalogActor(Func<ViewEntry, Props> backfillProps)
    {
        _backfillProps = backfillProps;

        Recover<ViewCreated>(Created);
        Recover<ViewDropped>(d => _views.Remove(d.Name));
        Recover<ViewBecameReady>(BecameReady);
        Recover<RecoveryCompleted>(_ =>
        {
            Publish();
            foreach (var v in _views.Values.Where(v => v.Status == ViewStatus.Backfilling)) StartBackfill(v);
        });

        Command<CreateView>(c =>
        {
            if (_views.TryGetValue(c.Name, out var existing))
            {
                Sender.Tell(new ViewCatalogReply(existing, $"a view named '{c.Name}' already exists"));
                return;
            }
            var replyTo = Sender;
            Persist(new ViewCreated(c.Name, _nextIncarnation, c.Sql), e =>
            {
                Created(e);
                Publish();
                var entry = _views[e.Name];
                replyTo.Tell(new ViewCatalogReply(entry, null));
                StartBackfill(entry);
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
                _views.Remove(e.Name);
                Context.Child(BackfillName(entry)).Tell(PoisonPill.Instance);
                Publish();
                replyTo.Tell(new ViewCatalogReply(entry, null));
            });
        });
        Command<BackfillProgress>(p =>
        {
            if (!_views.TryGetValue(p.Name, out var v) || v.Incarnation != p.Incarnation) return;
            _views[p.Name] = v with { BackfillDone = p.Done, BackfillTotal = p.Total };
            if (!p.Finished)
            {
                Publish();
                return;
            }
            Persist(new ViewBecameReady(p.Name, p.Incarnation), e =>
            {
                BecameReady(e);
                Publish();
                _log.Info("view {0} is ready ({1} entities backfilled)", p.Name, p.Total);
            });
        });
        Command<GetViewCatalog>(_ => Sender.Tell(State()));
    }

    public override string PersistenceId => "view-catalog";

    private void Created(ViewCreated e)
    {
        _views[e.Name] = new ViewEntry(e.Name, e.Incarnation, e.Sql, ViewStatus.Backfilling, 0, 0);
        _nextIncarnation = Math.Max(_nextIncarnation, e.Incarnation + 1);
    }

    private void BecameReady(ViewBecameReady e)
    {
        if (_views.TryGetValue(e.Name, out var v) && v.Incarnation == e.Incarnation)
            _views[e.Name] = v with { Status = ViewStatus.Ready };
    }

    private ViewCatalogState State() => new(++_version, _views.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList());

    private void Publish() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Publish(ViewTopics.Catalog, State()));

    private void StartBackfill(ViewEntry entry)
    {
        if (Context.Child(BackfillName(entry)).IsNobody())
            Context.ActorOf(_backfillProps(entry), BackfillName(entry));
    }

    private static string BackfillName(ViewEntry entry) => $"backfill-{entry.Incarnation}";
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
