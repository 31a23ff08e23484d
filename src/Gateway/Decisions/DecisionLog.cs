// The decision log: what a decision read asked, at which epoch it was answered and what it answered, kept
// durably under the decision's id. Recording is group-committed: one writer takes every decision waiting
// and writes them in one transaction, so a decision costs a row of a batch, not a transaction (nor a journal
// row) of its own, and its answer goes out once the batch is committed. An id is recorded once: the same
// request again gets the recorded answer back, and a different request under the same id is a conflict.
// Stored beside the journal (JournalDatabase.OpenBesideAsync): decisions.db on SQLite, a table of the
// journal's database on PostgreSQL. Decisions older than Decisions:Retention are deleted in the background.
using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using Prometheus;

namespace ContextLake.Gateway.Decisions;

/// <summary>One decision as recorded: its request (the reads, the read point, the labels) and answer are JSON texts.</summary>
public sealed record DecisionRecord(string Id, DateTimeOffset RecordedAt, long Epoch, string RequestHash, string Request, string Answer);

public enum DecisionOutcome
{
    /// <summary>Recorded now.</summary>
    Recorded,

    /// <summary>Recorded before with the same request: the answer is the one recorded then.</summary>
    Replayed,

    /// <summary>Recorded before with another request: nothing recorded.</summary>
    Conflict,
}

public sealed class DecisionLog : IAsyncDisposable
{
    private const string Table = "contextlake_decisions";

    /// <summary>The store beside the journal (<see cref="JournalDatabase.OpenBesideAsync"/>): decisions.db on SQLite.</summary>
    private const string Store = "decisions";
    private const int MaxBatch = 512;

    private static readonly Counter Decisions = Metrics.CreateCounter(
        "contextlake_decisions_total", "Decision reads that named a decision, by outcome (recorded, replayed, conflict).",
        new CounterConfiguration { LabelNames = ["outcome"] });

    private static readonly Counter Commits = Metrics.CreateCounter(
        "contextlake_decision_log_commits_total", "Transactions of the decision log's writer: each holds every decision that waited for it.");

    private static readonly Histogram CommitSeconds = Metrics.CreateHistogram(
        "contextlake_decision_log_commit_seconds", "A decision log transaction, from its first insert to its commit.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    private sealed record Pending(DecisionRecord Record, TaskCompletionSource<(DecisionOutcome, DecisionRecord)> Done);

    private readonly JournalDatabase _database;
    private readonly DecisionOptions _options;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private readonly Task _sweeper;

    public DecisionLog(JournalDatabase database, DecisionOptions options)
    {
        _database = database;
        _options = options;
        _writer = Task.Run(WriteLoopAsync);
        _sweeper = Task.Run(SweepLoopAsync);
    }

    /// <summary>Creates the table (once, at startup): a node that cannot do it does not start.</summary>
    public async Task EnsureAsync(CancellationToken cancel)
    {
        await using var conn = await _database.OpenBesideAsync(Store, cancel);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"""
            CREATE TABLE IF NOT EXISTS {Table} (
              id TEXT PRIMARY KEY, recorded_at_ms BIGINT NOT NULL, epoch BIGINT NOT NULL,
              request_hash TEXT NOT NULL, request TEXT NOT NULL, answer TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS {Table}_recorded ON {Table} (recorded_at_ms);
            """;
        await cmd.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>
    /// Records <paramref name="record"/> and returns once it is durable, or returns the decision recorded before under its id:
    /// <see cref="DecisionOutcome.Replayed"/> when that one's request is the same, <see cref="DecisionOutcome.Conflict"/> when not.
    /// </summary>
    public async Task<(DecisionOutcome Outcome, DecisionRecord Recorded)> RecordAsync(DecisionRecord record, CancellationToken cancel)
    {
        var done = new TaskCompletionSource<(DecisionOutcome, DecisionRecord)>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(record, done))) throw new ObjectDisposedException(nameof(DecisionLog));
        var result = await done.Task.WaitAsync(cancel);
        Decisions.WithLabels(result.Item1.ToString().ToLowerInvariant()).Inc();
        return result;
    }

    public async Task<DecisionRecord?> FindAsync(string id, CancellationToken cancel)
    {
        await using var conn = await _database.OpenBesideAsync(Store, cancel);
        return await FindAsync(conn, null, id, cancel);
    }

    private static async Task<DecisionRecord?> FindAsync(DbConnection conn, DbTransaction? tx, string id, CancellationToken cancel)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT id, recorded_at_ms, epoch, request_hash, request, answer FROM {Table} WHERE id = @id";
        cmd.AddParameter("id", id);
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        if (!await r.ReadAsync(cancel)) return null;
        return new DecisionRecord(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetInt64(2), r.GetString(3),
            r.GetString(4), r.GetString(5));
    }

    /// <summary>The one writer: every decision waiting goes into the next transaction.</summary>
    private async Task WriteLoopAsync()
    {
        DbConnection? conn = null;
        var batch = new List<Pending>(MaxBatch);
        try
        {
            // Drains on dispose: the reader ends once the queue is completed and empty.
            while (await _queue.Reader.WaitToReadAsync())
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
                try
                {
                    conn ??= await _database.OpenBesideAsync(Store, CancellationToken.None);
                    var outcomes = await WriteBatchAsync(conn, batch, CancellationToken.None);
                    for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(outcomes[i]);
                }
                catch (Exception ex)
                {
                    // Whatever failed, the batch is not recorded: its reads answer 503 and the client may ask again; the writer
                    // goes on with a new connection (it must not die: every later decision would wait for it).
                    foreach (var p in batch) p.Done.TrySetException(new DecisionLogUnavailableException(ex.Message, ex));
                    if (conn is not null) await conn.DisposeAsync();
                    conn = null;
                }
            }
        }
        finally
        {
            if (conn is not null) await conn.DisposeAsync();
        }
    }

    private async Task<(DecisionOutcome, DecisionRecord)[]> WriteBatchAsync(DbConnection conn, List<Pending> batch, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        var outcomes = new (DecisionOutcome, DecisionRecord)[batch.Count];
        await using var tx = await conn.BeginTransactionAsync(cancel);
        for (var i = 0; i < batch.Count; i++)
        {
            var d = batch[i].Record;
            await using var insert = conn.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = $"INSERT INTO {Table} (id, recorded_at_ms, epoch, request_hash, request, answer) " +
                                 "VALUES (@id, @at, @epoch, @hash, @request, @answer) ON CONFLICT (id) DO NOTHING";
            insert.AddParameter("id", d.Id);
            insert.AddParameter("at", d.RecordedAt.ToUnixTimeMilliseconds());
            insert.AddParameter("epoch", d.Epoch);
            insert.AddParameter("hash", d.RequestHash);
            insert.AddParameter("request", d.Request);
            insert.AddParameter("answer", d.Answer);
            if (await insert.ExecuteNonQueryAsync(cancel) == 1)
            {
                outcomes[i] = (DecisionOutcome.Recorded, d);
                continue;
            }
            var earlier = await FindAsync(conn, tx, d.Id, cancel)
                          ?? throw new InvalidOperationException($"decision '{d.Id}' neither inserted nor found");
            outcomes[i] = (earlier.RequestHash == d.RequestHash ? DecisionOutcome.Replayed : DecisionOutcome.Conflict, earlier);
        }
        await tx.CommitAsync(cancel);
        Commits.Inc();
        CommitSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return outcomes;
    }

    /// <summary>Deletes the decisions past Decisions:Retention, every <see cref="DecisionOptions.SweepEvery"/>.</summary>
    private async Task SweepLoopAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.SweepEvery, _stop.Token);
                try
                {
                    await using var conn = await _database.OpenBesideAsync(Store, _stop.Token);
                    await using var cmd = conn.CreateCommand();
                    cmd.CommandText = $"DELETE FROM {Table} WHERE recorded_at_ms < @before";
                    cmd.AddParameter("before", (DateTimeOffset.UtcNow - _options.Retention).ToUnixTimeMilliseconds());
                    await cmd.ExecuteNonQueryAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
                {
                    // Tried again at the next sweep: expired decisions stay a little longer, nothing is lost.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The decisions recorded at or after <paramref name="from"/> and before <paramref name="to"/>, in (recorded time, id) order,
    /// at most <paramref name="limit"/>, starting after <paramref name="after"/> (the last of the previous page; null for the first).
    /// The page goes on from the previous one's last time and id, not from its row, so a decision the sweeper deleted in between
    /// loses no place.
    /// </summary>
    public async Task<IReadOnlyList<DecisionRecord>> ListAsync(DateTimeOffset from, DateTimeOffset to, DecisionRecord? after, int limit,
        CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var conn = await _database.OpenBesideAsync(Store, cancel);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT id, recorded_at_ms, epoch, request_hash, request, answer FROM {Table} " +
                          "WHERE recorded_at_ms >= @from AND recorded_at_ms < @to" +
                          (after is null ? "" : " AND (recorded_at_ms > @after_at OR (recorded_at_ms = @after_at AND id > @after_id))") +
                          " ORDER BY recorded_at_ms, id LIMIT @limit";
        AddRange(cmd, from, to);
        if (after is not null)
        {
            cmd.AddParameter("after_at", after.RecordedAt.ToUnixTimeMilliseconds());
            cmd.AddParameter("after_id", after.Id);
        }
        cmd.AddParameter("limit", limit);
        var page = new List<DecisionRecord>(Math.Min(limit, 1024));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        while (await r.ReadAsync(cancel))
            page.Add(new DecisionRecord(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetInt64(2), r.GetString(3),
                r.GetString(4), r.GetString(5)));
        return page;
    }

    /// <summary>How many decisions are recorded at or after <paramref name="from"/> and before <paramref name="to"/>.</summary>
    public async Task<long> CountAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancel)
    {
        await using var conn = await _database.OpenBesideAsync(Store, cancel);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {Table} WHERE recorded_at_ms >= @from AND recorded_at_ms < @to";
        AddRange(cmd, from, to);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// [from, to) in the table's milliseconds: a time between two milliseconds rounds up at both ends, so a decision recorded at
    /// millisecond m is inside exactly when from &lt;= m &lt; to.
    /// </summary>
    private static void AddRange(DbCommand cmd, DateTimeOffset from, DateTimeOffset to)
    {
        static long CeilingMs(DateTimeOffset t) =>
            t.ToUnixTimeMilliseconds() + (t.UtcTicks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1);
        cmd.AddParameter("from", CeilingMs(from));
        cmd.AddParameter("to", CeilingMs(to));
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        await _stop.CancelAsync();
        await _sweeper;
        _stop.Dispose();
    }
}

/// <summary>The decision log's database did not take a batch: the read is not answered (503), the client may ask again.</summary>
public sealed class DecisionLogUnavailableException(string message, Exception inner) : Exception(message, inner);
