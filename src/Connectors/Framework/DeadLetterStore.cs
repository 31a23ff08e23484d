// Records that could not be decoded or mapped: kept in the journal database with the connector, the
// stream position, the raw bytes and the reason, so nothing is dropped silently and the stream moves on.
using System.Data.Common;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;

namespace ContextLake.Connectors.Framework;

public sealed record DeadLetter(string Connector, string Stream, long Offset, byte[] Raw, string Reason, DateTimeOffset At);

public sealed class DeadLetterStore(JournalDatabase database)
{
    private const string Table = "contextlake_dead_letters";
    private readonly SemaphoreSlim _ensure = new(1, 1);
    private bool _ensured;

    private async Task EnsureTableAsync(DbConnection conn, CancellationToken cancel)
    {
        if (_ensured) return;
        await _ensure.WaitAsync(cancel);
        try
        {
            if (_ensured) return;
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = database.Provider == JournalProvider.Sqlite
                ? $"CREATE TABLE IF NOT EXISTS {Table} (id INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL, stream TEXT NOT NULL, stream_offset INTEGER NOT NULL, raw BLOB NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, UNIQUE (connector, stream, stream_offset))"
                : $"CREATE TABLE IF NOT EXISTS {Table} (id BIGSERIAL PRIMARY KEY, connector TEXT NOT NULL, stream TEXT NOT NULL, stream_offset BIGINT NOT NULL, raw BYTEA NOT NULL, reason TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, UNIQUE (connector, stream, stream_offset))";
            await cmd.ExecuteNonQueryAsync(cancel);
            _ensured = true;
        }
        finally
        {
            _ensure.Release();
        }
    }

    public async Task WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancel = default)
    {
        if (letters.Count == 0) return;
        await using var conn = await database.OpenAsync(cancel);
        await EnsureTableAsync(conn, cancel);
        await using var tx = await conn.BeginTransactionAsync(cancel);
        foreach (var d in letters)
        {
            await using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            // A record read again after a crash is the same dead letter: keep one.
            cmd.CommandText = $"INSERT INTO {Table} (connector, stream, stream_offset, raw, reason, at) VALUES (@c, @s, @o, @r, @why, @at) ON CONFLICT DO NOTHING";
            cmd.AddParameter("c", d.Connector);
            cmd.AddParameter("s", d.Stream);
            cmd.AddParameter("o", d.Offset);
            cmd.AddParameter("r", d.Raw);
            cmd.AddParameter("why", d.Reason);
            cmd.AddParameter("at", database.Provider == JournalProvider.Sqlite ? d.At.UtcDateTime.ToString("O") : d.At);
            await cmd.ExecuteNonQueryAsync(cancel);
        }
        await tx.CommitAsync(cancel);
        foreach (var d in letters) Platform.Telemetry.Metrics.DeadLetters.WithLabels(d.Connector).Inc();
    }

    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string connector, int limit, CancellationToken cancel = default)
    {
        await using var conn = await database.OpenAsync(cancel);
        await EnsureTableAsync(conn, cancel);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT connector, stream, stream_offset, raw, reason, at FROM {Table} WHERE connector = @c ORDER BY id LIMIT {limit}";
        cmd.AddParameter("c", connector);
        var list = new List<DeadLetter>();
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        while (await r.ReadAsync(cancel))
        {
            var at = r.GetValue(5) switch
            {
                DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
                DateTimeOffset dto => dto,
                var other => DateTimeOffset.Parse(other.ToString()!, System.Globalization.CultureInfo.InvariantCulture),
            };
            list.Add(new DeadLetter(r.GetString(0), r.GetString(1), r.GetInt64(2), (byte[])r.GetValue(3), r.GetString(4), at));
        }
        return list;
    }

    public async Task<long> CountAsync(string connector, CancellationToken cancel = default)
    {
        await using var conn = await database.OpenAsync(cancel);
        await EnsureTableAsync(conn, cancel);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {Table} WHERE connector = @c";
        cmd.AddParameter("c", connector);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel));
    }
}
