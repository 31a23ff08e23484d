// Every metric the node exports on GET /metrics (Prometheus text), defined in one place.
using Prometheus;

namespace ContextLake.Platform.Telemetry;

public static class Metrics
{
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16);

    public static readonly Counter IngestedEvents = Prometheus.Metrics.CreateCounter(
        "contextlake_ingest_events_total", "Events applied to entities and views, per connector and stream.",
        new CounterConfiguration { LabelNames = ["connector", "stream"] });

    public static readonly Histogram ApplySeconds = Prometheus.Metrics.CreateHistogram(
        "contextlake_apply_seconds", "Time from submitting a run of a stream's events to its being applied by every partition it touches (phase=\"run\").",
        new HistogramConfiguration { LabelNames = ["phase"], Buckets = LatencyBuckets });

    public static readonly Histogram StreamToServeSeconds = Prometheus.Metrics.CreateHistogram(
        "contextlake_stream_to_serve_seconds",
        "Delay until the epoch that commits an event is published: from the event's time (source) and from when it was read (read).",
        new HistogramConfiguration { LabelNames = ["from"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });

    public static readonly Gauge EventsInFlight = Prometheus.Metrics.CreateGauge(
        "contextlake_ingest_in_flight_events", "Events admitted on this node (every stream's runs) and not yet applied everywhere; at most State:EventsInFlight, but for one oversized run.");

    public static readonly Gauge Standbys = Prometheus.Metrics.CreateGauge(
        "contextlake_standby_partitions", "Standbys this node keeps of partitions owned by other nodes (State:Standbys), per region (entity, view).",
        new GaugeConfiguration { LabelNames = ["region"] });

    public static readonly Counter StandbyReads = Prometheus.Metrics.CreateCounter(
        "contextlake_standby_reads_total", "Stale-ok reads of a partition answered by its standby (owner unreachable or slower than Http:StandbyReadAfter), per region.",
        new CounterConfiguration { LabelNames = ["region"] });

    public static readonly Gauge EpochNumber = Prometheus.Metrics.CreateGauge(
        "contextlake_epoch_number", "The latest committed epoch known on this node.");

    public static readonly Counter EpochsPublished = Prometheus.Metrics.CreateCounter(
        "contextlake_epochs_total", "Epochs received by this node's epoch replica.");

    public static readonly Gauge StreamLag = Prometheus.Metrics.CreateGauge(
        "contextlake_stream_lag_offsets", "Offsets read by a stream's source but not yet committed.",
        new GaugeConfiguration { LabelNames = ["stream"] });

    public static readonly Gauge StreamLagSeconds = Prometheus.Metrics.CreateGauge(
        "contextlake_stream_lag_seconds", "How long a stream has had offsets read but not committed by an epoch (0 when caught up).",
        new GaugeConfiguration { LabelNames = ["stream"] });

    public static readonly Histogram JournalWriteSeconds = Prometheus.Metrics.CreateHistogram(
        "contextlake_journal_write_seconds", "Time to journal one row, per region: a partition's group-committed work (entity, view, vector) or the epoch coordinator's record of one epoch (epoch).",
        new HistogramConfiguration { LabelNames = ["region"], Buckets = LatencyBuckets });

    public static readonly Histogram JournalBatchEvents = Prometheus.Metrics.CreateHistogram(
        "contextlake_journal_batch_events", "Events (entity region) or derived changes (view and vector regions) per partition journal row.",
        new HistogramConfiguration { LabelNames = ["region"], Buckets = Histogram.ExponentialBuckets(1, 2, 16) });

    public static readonly Counter DeadLetters = Prometheus.Metrics.CreateCounter(
        "contextlake_dead_letters_total", "Records that could not be decoded or mapped, per connector.",
        new CounterConfiguration { LabelNames = ["connector"] });

    public static readonly Gauge BackfillPartitions = Prometheus.Metrics.CreateGauge(
        "contextlake_view_backfill_partitions", "Entity partitions that have delivered their part of a view's backfill (kind=done), and in all (kind=total).",
        new GaugeConfiguration { LabelNames = ["view", "kind"] });

    public static readonly Gauge BackfillEvents = Prometheus.Metrics.CreateGauge(
        "contextlake_view_backfill_events", "Journaled events replayed into a view's backfill so far, over every entity partition.",
        new GaugeConfiguration { LabelNames = ["view"] });

    public static readonly Gauge Subscribers = Prometheus.Metrics.CreateGauge(
        "contextlake_subscribers", "Live subscriptions (GET /v1/subscribe) on this node.");

    public static readonly Counter SubscriptionsCutOff = Prometheus.Metrics.CreateCounter(
        "contextlake_subscriptions_cut_off_total", "Subscriptions the node ended itself, per reason (lagging, horizon, notices, view).",
        new CounterConfiguration { LabelNames = ["reason"] });

    public static readonly Histogram SubscriptionDeliverySeconds = Prometheus.Metrics.CreateHistogram(
        "contextlake_subscription_delivery_seconds", "From an epoch's commit to its change events written to a subscriber.",
        new HistogramConfiguration { Buckets = LatencyBuckets });

    public static readonly Histogram FailoverUnavailableSeconds = Prometheus.Metrics.CreateHistogram(
        "contextlake_failover_unavailable_seconds",
        "Per takeover on this node: from when this node saw the previous owner become unreachable (or downed) to the partition (kind=entity|view) or persistent singleton (kind=singleton) being recovered here.",
        new HistogramConfiguration { LabelNames = ["kind", "name"], Buckets = [0.5, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 45, 60, 120] });

    public static readonly Counter FailoverTakeovers = Prometheus.Metrics.CreateCounter(
        "contextlake_failover_takeovers_total", "Partitions (kind=entity|view) and singletons (kind=singleton) this node took over from a lost node.",
        new CounterConfiguration { LabelNames = ["kind"] });

    /// <summary>
    /// Time the runtime held every thread of the node for garbage collection, since the process started: a pause delays
    /// every run, epoch and read under way, so it is a floor under their tails. Read as each scrape begins.
    /// </summary>
    public static readonly Counter GcPauseSeconds = CreateGcPauseSeconds();

    private static Counter CreateGcPauseSeconds()
    {
        var counter = Prometheus.Metrics.CreateCounter(
            "contextlake_gc_pause_seconds_total", "Time the .NET runtime paused the node's threads for garbage collection, since start.");
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() => counter.IncTo(GC.GetTotalPauseDuration().TotalSeconds));
        return counter;
    }

    /// <summary>The connector a stream belongs to: "http" for http:writes, {connector} for kafka:{connector}/….</summary>
    public static string ConnectorOf(string stream)
    {
        var colon = stream.IndexOf(':');
        if (colon < 0) return stream;
        var rest = stream[(colon + 1)..];
        var slash = rest.IndexOf('/');
        return stream.StartsWith("http:", StringComparison.Ordinal) ? "http" : slash < 0 ? rest : rest[..slash];
    }
}
