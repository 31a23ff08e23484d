// The journal's database as the node sees it: Akka.Persistence.Sql settings, SQLite preparation
// (folder, WAL, separate journal and snapshot files, SqliteConnections on every plugin connection, reads in
// deferred transactions) and the reachability check behind /readyz.
using System.Data.Common;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using ContextLake.Platform.Hosting;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ContextLake.Platform.Journal;

public sealed class JournalDatabase
{
    private readonly JournalOptions _options;

    /// <summary>What every SQLite connection of the node gets as it opens, the plugins' and ContextLake's own.</summary>
    private readonly SqliteConnections _sqliteSettings;

    public JournalDatabase(JournalOptions options)
    {
        _options = options;
        _sqliteSettings = new SqliteConnections(options.SqliteSynchronous);
        if (options.Provider == JournalProvider.Sqlite)
        {
            var dir = Path.GetFullPath(options.DataDirectory);
            JournalConnectionString = $"Data Source={Path.Combine(dir, "journal.db")};Pooling=True";
            SnapshotConnectionString = $"Data Source={Path.Combine(dir, "snapshots.db")};Pooling=True";
            ProviderName = "SQLite.MS";
        }
        else
        {
            JournalConnectionString = SnapshotConnectionString = options.ConnectionString!;
            ProviderName = "PostgreSQL.15";
        }
    }

    public string JournalConnectionString { get; }
    public string SnapshotConnectionString { get; }
    public string ProviderName { get; }

    public JournalProvider Provider => _options.Provider;

    /// <summary>A new, unopened connection to the journal's database, without the node's connection settings (tests and tools).</summary>
    public DbConnection CreateConnection() => _options.Provider == JournalProvider.Sqlite
        ? new SqliteConnection(JournalConnectionString)
        : new NpgsqlConnection(JournalConnectionString);

    /// <summary>
    /// An open connection to the journal's database for ContextLake's own tables (partition layout, dead letters), with the
    /// journal's connection settings on SQLite (<see cref="SqliteConnections"/>), as the plugins' connections have.
    /// </summary>
    public Task<DbConnection> OpenAsync(CancellationToken cancel) => _options.Provider == JournalProvider.Sqlite
        ? OpenSqliteAsync(JournalConnectionString, "", cancel)
        : OpenPostgresAsync(cancel);

    /// <summary>
    /// An open connection to a store of ContextLake's own beside the journal: on SQLite the file <paramref name="name"/>.db in
    /// the journal's folder (WAL, with the journal's synchronous and busy timeout), so its writes never wait for the journal's
    /// single writer; on PostgreSQL the journal's own database.
    /// </summary>
    public Task<DbConnection> OpenBesideAsync(string name, CancellationToken cancel) => _options.Provider == JournalProvider.Sqlite
        ? OpenSqliteAsync($"Data Source={Path.Combine(Path.GetFullPath(_options.DataDirectory), name + ".db")};Pooling=True", "PRAGMA journal_mode=WAL; ", cancel)
        : OpenPostgresAsync(cancel);

    private async Task<DbConnection> OpenSqliteAsync(string connectionString, string pragmas, CancellationToken cancel)
    {
        var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(cancel);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = pragmas + _sqliteSettings.Pragmas;
        await cmd.ExecuteNonQueryAsync(cancel);
        return conn;
    }

    private async Task<DbConnection> OpenPostgresAsync(CancellationToken cancel)
    {
        var conn = new NpgsqlConnection(JournalConnectionString);
        await conn.OpenAsync(cancel);
        return conn;
    }

    /// <summary>
    /// SQLite only: the journal, query and snapshot plugins' connections with <see cref="SqliteConnections"/>' settings
    /// (<c>Journal:SqliteSynchronous</c> and the busy timeout) set as each opens, settings no connection string can carry;
    /// null for PostgreSQL.
    /// </summary>
    public MultiDataOptionsSetup? PluginConnections()
    {
        if (_options.Provider != JournalProvider.Sqlite) return null;
        DataOptions For(string cs) => new DataOptions().UseConnectionString(ProviderName, cs).UseInterceptor(_sqliteSettings);
        var setup = new MultiDataOptionsSetup();
        setup.AddDataOptions("akka.persistence.journal.sql", For(JournalConnectionString));
        setup.AddDataOptions("akka.persistence.query.journal.sql", For(JournalConnectionString));
        setup.AddDataOptions("akka.persistence.snapshot-store.sql", For(SnapshotConnectionString));
        return setup;
    }

    /// <summary>Creates the SQLite folder and switches both files to WAL (a property of the file, set once).</summary>
    public void Prepare()
    {
        if (_options.Provider != JournalProvider.Sqlite) return;
        Directory.CreateDirectory(Path.GetFullPath(_options.DataDirectory));
        foreach (var cs in new[] { JournalConnectionString, SnapshotConnectionString })
        {
            using var conn = new SqliteConnection(cs);
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode=WAL;";
            cmd.ExecuteNonQuery();
        }
    }

    public Config ToHocon()
    {
        var sqlite = _options.Provider == JournalProvider.Sqlite;
        var parallelism = sqlite ? 1 : _options.Parallelism;
        // Microsoft.Data.Sqlite begins an "unspecified" (serializable) transaction with BEGIN IMMEDIATE, which takes the write
        // lock: the journal sequence query the plugin runs every second would stall the writer. A read-uncommitted one begins
        // deferred, a snapshot of committed rows under WAL (read_uncommitted only matters with a shared cache, not used here).
        var reads = sqlite ? "read-uncommitted" : "unspecified";
        var hocon = $$"""
            akka.persistence.journal.sql {
              connection-string = {{Quote(JournalConnectionString)}}
              provider-name = {{Quote(ProviderName)}}
              parallelism = {{parallelism}}
              read-isolation-level = {{reads}}
            }
            akka.persistence.snapshot-store.sql {
              connection-string = {{Quote(SnapshotConnectionString)}}
              provider-name = {{Quote(ProviderName)}}
              read-isolation-level = {{reads}}
            }
            akka.persistence.query.journal.sql {
              connection-string = {{Quote(JournalConnectionString)}}
              provider-name = {{Quote(ProviderName)}}
              read-isolation-level = {{reads}}
            }
            """;
        return ConfigurationFactory.ParseString(hocon);
    }

    /// <summary>Opens a connection and runs SELECT 1: what /readyz calls "journal reachable".</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancel)
    {
        try
        {
            await using var conn = await OpenAsync(cancel);
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT 1";
            await cmd.ExecuteScalarAsync(cancel);
            return true;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
        {
            return false;
        }
    }

    internal static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
