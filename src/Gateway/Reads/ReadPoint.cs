// Which epoch a read is answered at: the latest, epoch=N (older than the history: from the journal, 410 past
// Epochs:Retention; one newer
// than this node has seen is waited for, 504 after the timeout), after=STREAM@OFFSET (wait until committed; 504 after the timeout), or
// consistency=stale-ok (never wait; say how old). Every value in one answer is read at this one epoch.
using System.Globalization;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Reads;

public sealed record ReadPointRequest(long? Epoch, IReadOnlyList<string> After, string? Consistency, string? Timeout, string? At);

/// <param name="Served">
/// "journal" when the answer was read from the journal (an epoch older than the partitions keep); "standby" when a stale-ok read
/// took some keys from standbys (their owners unreachable or slow); absent when from the owners' memory.
/// </param>
public sealed record EpochDoc(long N, IReadOnlyDictionary<string, long> Vector, DateTimeOffset CommittedAt, long? AgeMs,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Served = null);

/// <summary>The resolved read point: the epoch, and the time windowed views end at.</summary>
public sealed record ReadPoint(Epoch Epoch, DateTimeOffset At, bool StaleOk)
{
    /// <summary>The epoch the answer is read at; a <see cref="Movable"/> point may be moved to a newer one before any value is answered.</summary>
    public Epoch Epoch { get; set; } = Epoch;

    /// <summary>
    /// Whether any newer epoch would do as well (the latest, stale-ok, or the first covering after=): a read that finds a partition
    /// already folded past the epoch is read again at the latest rather than from the journal. An explicit epoch=N never moves.
    /// </summary>
    public bool Movable { get; init; }

    /// <summary>
    /// Whether the answer is read from the journal: set when the epoch was resolved from the coordinator's journal, or by the
    /// state reader once a partition no longer held the epoch for some key.
    /// </summary>
    public bool FromJournal { get; set; }

    /// <summary>Whether a stale-ok read took some keys from partitions' standbys (set by the state reader).</summary>
    public bool FromStandby { get; set; }

    public EpochDoc ToDoc() => new(Epoch.N, Epoch.Vector, Epoch.CommittedAt,
        StaleOk ? (long)Math.Max(0, (DateTimeOffset.UtcNow - Epoch.CommittedAt).TotalMilliseconds) : null,
        FromJournal ? "journal" : FromStandby ? "standby" : null);
}

public static class ReadPoints
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(1);

    public static ReadPointRequest FromQuery(HttpRequest request) => new(
        request.Query.TryGetValue("epoch", out var e) ? ParseLongOrThrow(e.ToString()) : null,
        request.Query["after"].Where(a => !string.IsNullOrEmpty(a)).Select(a => a!).ToList(),
        request.Query["consistency"].FirstOrDefault(),
        request.Query["timeout"].FirstOrDefault(),
        request.Query["at"].FirstOrDefault());

    private static long? ParseLongOrThrow(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new BadReadPointException($"epoch '{text}' is not a non-negative integer");

    /// <summary>The read point a GET names in its query (epoch, after, consistency, timeout, at).</summary>
    public static async Task<(ReadPoint?, Problem?)> ResolveQueryAsync(HttpRequest request, EpochClock clock, NodeOptions options, CancellationToken cancel)
    {
        try
        {
            return await ResolveAsync(FromQuery(request), clock, options, cancel);
        }
        catch (BadReadPointException ex)
        {
            return (null, Problem.BadRequest("Invalid read", ex.Message));
        }
    }

    public static async Task<(ReadPoint?, Problem?)> ResolveAsync(ReadPointRequest req, EpochClock clock, NodeOptions options, CancellationToken cancel)
    {
        if (!clock.Known)
            return (null, new Problem(StatusCodes.Status503ServiceUnavailable, "Epochs not known yet",
                "this node has not yet heard the committed epoch from the epoch coordinator; retry shortly (see /readyz)"));
        var positions = new List<StreamPosition>();
        foreach (var a in req.After)
        {
            if (!StreamPosition.TryParse(a, out var p))
                return (null, Problem.BadRequest("Invalid read", $"after '{a}' is not a position of the form STREAM@OFFSET, e.g. http:writes@97"));
            positions.Add(p);
        }

        var staleOk = false;
        switch (req.Consistency)
        {
            case null or "" or "committed":
                break;
            case "stale-ok":
                staleOk = true;
                break;
            default:
                return (null, Problem.BadRequest("Invalid read", $"consistency '{req.Consistency}' is not one of committed, stale-ok"));
        }

        var timeout = DefaultTimeout;
        if (!string.IsNullOrEmpty(req.Timeout) && !TryParseDuration(req.Timeout, out timeout))
            return (null, Problem.BadRequest("Invalid read", $"timeout '{req.Timeout}' is not a duration such as 500ms, 5s or 1m"));
        if (timeout > MaxTimeout)
            return (null, Problem.BadRequest("Invalid read", $"timeout {req.Timeout} is longer than the most allowed, 1m"));

        DateTimeOffset? at = null;
        if (!string.IsNullOrEmpty(req.At))
        {
            if (!DateTimeOffset.TryParse(req.At, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                return (null, Problem.BadRequest("Invalid read", $"at '{req.At}' is not an ISO 8601 timestamp"));
            at = parsed;
        }

        Epoch epoch;
        if (req.Epoch is { } n)
        {
            if (n > clock.Latest.N)
            {
                // Monotonic reads across nodes: a client passes the epoch another node answered it with; this
                // node may not have heard of it yet, so it waits for it rather than answering older.
                try
                {
                    await clock.WaitAsync(e => e.N >= n, timeout, cancel);
                }
                catch (TimeoutException)
                {
                    return (null, new Problem(StatusCodes.Status504GatewayTimeout, "Epoch not committed in time",
                        $"epoch {n} is newer than the latest committed epoch {clock.Latest.N} and was not committed within {timeout.TotalMilliseconds:0} ms (parameter timeout)"));
                }
            }
            // Older than this node's history: the coordinator's journal keeps each epoch for Epochs:Retention, and the
            // partitions' journals answer it.
            var found = clock.Find(n);
            var journaled = found is null;
            found ??= await clock.FindJournaledAsync(n, cancel);
            if (found is null)
                return (null, new Problem(StatusCodes.Status410Gone, "Epoch no longer readable",
                    $"epoch {n} is older than what the journal keeps (setting ContextLake:Epochs:Retention, {options.Epochs.Retention}); " +
                    $"this node holds epochs from {clock.Horizon.N} in memory (ContextLake:Epochs:History, {options.Epochs.History})"));
            epoch = found;
            var missing = positions.FirstOrDefault(p => !epoch.Covers(p.Stream, p.Offset));
            if (missing != default)
                return (null, Problem.BadRequest("Invalid read", $"epoch {n} does not cover after={missing}"));
            return (new ReadPoint(epoch, at ?? epoch.CommittedAt, false) { FromJournal = journaled }, null);
        }

        if (staleOk || positions.Count == 0)
            return (new ReadPoint(clock.Latest, at ?? DateTimeOffset.UtcNow, staleOk) { Movable = true }, null);

        try
        {
            epoch = await clock.WaitAsync(e => positions.All(p => e.Covers(p.Stream, p.Offset)), timeout, cancel);
            return (new ReadPoint(epoch, at ?? DateTimeOffset.UtcNow, false) { Movable = true }, null);
        }
        catch (TimeoutException)
        {
            var latest = clock.Latest;
            var pending = positions.Where(p => !latest.Covers(p.Stream, p.Offset)).Select(p => $"{p} (committed up to {p.Stream}@{latest[p.Stream]})");
            return (null, new Problem(StatusCodes.Status504GatewayTimeout, "Position not committed in time",
                $"after {string.Join(", ", pending)} was not committed within {timeout.TotalMilliseconds:0} ms (parameter timeout)"));
        }
    }

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var units = new (string Suffix, double Ms)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000) };
        foreach (var (suffix, ms) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var number = text[..^suffix.Length];
            if (suffix == "s" && number.EndsWith('m')) continue;
            if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0) return false;
            value = TimeSpan.FromMilliseconds(n * ms);
            return true;
        }
        return false;
    }
}

public sealed class BadReadPointException(string message) : Exception(message);
