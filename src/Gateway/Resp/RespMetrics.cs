// The Redis protocol listener's metrics on GET /metrics: connections open, commands answered per command and
// outcome, and how long the reads took.
using Prometheus;

namespace ContextLake.Gateway.Resp;

public static class RespMetrics
{
    public static readonly Gauge Connections = Prometheus.Metrics.CreateGauge(
        "contextlake_resp_connections", "Redis protocol connections open on this node.");

    public static readonly Counter Commands = Prometheus.Metrics.CreateCounter(
        "contextlake_resp_commands_total", "Redis protocol commands answered, per command (\"other\" for unknown ones) and outcome (ok, error).",
        new CounterConfiguration { LabelNames = ["command", "outcome"] });

    public static readonly Histogram ReadSeconds = Prometheus.Metrics.CreateHistogram(
        "contextlake_resp_read_seconds", "Time to answer a Redis protocol read (GET, MGET, HGET, HMGET, HGETALL, EXISTS), from its frame to its reply.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00005, 2, 16) });

    public static readonly Counter ProtocolErrors = Prometheus.Metrics.CreateCounter(
        "contextlake_resp_protocol_errors_total", "Connections closed because their bytes were not RESP requests (or a request was too long).");
}
