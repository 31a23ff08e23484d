// A real, empty journal for one test: a SQLite folder or a fresh PostgreSQL database, removed afterwards.
using ContextLake.Platform.Hosting;
using Npgsql;

namespace ContextLake.Testing;

public abstract class TestJournal : IAsyncDisposable
{
    public abstract JournalOptions Options { get; }

    /// <summary>Environment variables that point a node process at this journal.</summary>
    public abstract IReadOnlyDictionary<string, string> Environment { get; }

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// <paramref name="expression"/> (an aggregate such as COUNT(*) or MAX(sequence_number)) over one writer's rows of the
    /// journal's <paramref name="table"/> ("journal" or "snapshot"), read straight from the database.
    /// </summary>
    public async Task<long> WriterScalarAsync(string expression, string table, string persistenceId)
    {
        await using System.Data.Common.DbConnection conn = Options.Provider == JournalProvider.Sqlite
            ? new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Options.DataDirectory, table == "snapshot" ? "snapshots.db" : "journal.db")}")
            : new NpgsqlConnection(Options.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {expression} FROM {table} WHERE persistence_id = @p";
        var p = cmd.CreateParameter();
        p.ParameterName = "p";
        p.Value = persistenceId;
        cmd.Parameters.Add(p);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>The writer's highest sequence number in the table, 0 without rows: a snapshot at the journal's is one with no tail.</summary>
    public Task<long> SequenceAsync(string table, string persistenceId) =>
        WriterScalarAsync("COALESCE(MAX(sequence_number), 0)", table, persistenceId);

    public static TestJournal Create(JournalProvider provider) => provider switch
    {
        JournalProvider.Sqlite => new SqliteTestJournal(),
        JournalProvider.PostgreSql => PostgresTestJournal.Create(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };
}

public sealed class SqliteTestJournal : TestJournal
{
    private readonly string _dir = Directory.CreateTempSubdirectory("contextlake-test-").FullName;

    public override JournalOptions Options => new() { Provider = JournalProvider.Sqlite, DataDirectory = _dir };

    public override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["ContextLake__Journal__Provider"] = "sqlite",
        ["ContextLake__Journal__DataDirectory"] = _dir,
    };

    public override ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresTestJournal : TestJournal
{
    public const string EnvironmentVariable = "CONTEXTLAKE_TEST_POSTGRES";

    private readonly string _admin;
    private readonly string _database;

    private PostgresTestJournal(string admin, string database, string connectionString)
    {
        _admin = admin;
        _database = database;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public override JournalOptions Options => new() { Provider = JournalProvider.PostgreSql, ConnectionString = ConnectionString };

    public override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["ContextLake__Journal__Provider"] = "postgresql",
        ["ContextLake__Journal__ConnectionString"] = ConnectionString,
    };

    /// <summary>The server the test command started (scripts/test.sh sets CONTEXTLAKE_TEST_POSTGRES).</summary>
    public static string AdminConnectionString =>
        System.Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set: run the tests with ./scripts/test.sh, which starts PostgreSQL on loopback and sets it");

    public static PostgresTestJournal Create()
    {
        var admin = AdminConnectionString;
        var database = "cl_" + Guid.NewGuid().ToString("N")[..16];
        using (var conn = new NpgsqlConnection(admin))
        {
            conn.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {database}", conn);
            cmd.ExecuteNonQuery();
        }
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = database, MaxPoolSize = 20 }.ConnectionString;
        return new PostgresTestJournal(admin, database, cs);
    }

    public override async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        // A logical replication slot pins its database: end its walsender if one is left, drop it, then the database.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await using var slots = new NpgsqlCommand(
                """
                SELECT count(*) FROM (
                  SELECT CASE WHEN active THEN pg_terminate_backend(active_pid) ELSE pg_drop_replication_slot(slot_name) IS NULL END
                  FROM pg_replication_slots WHERE database = $1) s
                """, conn);
            slots.Parameters.AddWithValue(_database);
            try
            {
                if ((long)(await slots.ExecuteScalarAsync())! == 0) break;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse)
            {
                // The slot became active between the check and the drop; try again.
            }
            await Task.Delay(100);
        }
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
