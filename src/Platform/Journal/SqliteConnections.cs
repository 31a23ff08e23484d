// How the node's SQLite connections behave, set on every connection as it opens because SQLite keeps these per
// connection and no connection string carries them:
// - synchronous: with WAL, `normal` appends a commit to the WAL without waiting for fsync, so a commit survives
//   any crash of the process (kill -9 included) and is lost only if the machine loses power or the kernel crashes
//   before the next checkpoint: the contract of Kafka's default (no fsync per write) and of Redis's
//   `appendfsync everysec`. `full` waits for an fsync on every commit, for durability across power loss.
// - busy_timeout: a connection that finds the write lock taken waits inside SQLite, retrying within
//   milliseconds, instead of failing at once into Microsoft.Data.Sqlite's own retry, which sleeps 150 ms.
// The plugins' read queries run in deferred transactions (read-isolation-level, in JournalDatabase.ToHocon): an
// immediate one would take the write lock for a read.
using System.Data.Common;
using LinqToDB.Interceptors;

namespace ContextLake.Platform.Journal;

public enum SqliteSynchronous
{
    Normal,
    Full,
}

/// <summary>Sets <c>synchronous</c> and <c>busy_timeout</c> on each SQLite connection as it opens.</summary>
public sealed class SqliteConnections(SqliteSynchronous synchronous) : IConnectionInterceptor
{
    /// <summary>How long a connection waits for the write lock before SQLite reports the database busy.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(10);

    public string Pragmas { get; } =
        $"PRAGMA synchronous={(synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")}; PRAGMA busy_timeout={(int)BusyTimeout.TotalMilliseconds};";

    public void ConnectionOpening(ConnectionEventData eventData, DbConnection connection)
    {
    }

    public Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public void ConnectionOpened(ConnectionEventData eventData, DbConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        cmd.ExecuteNonQuery();
    }

    public async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
