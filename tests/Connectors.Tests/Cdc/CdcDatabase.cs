// A fresh PostgreSQL database for one CDC test, with its replication slots dropped before the database.
using ContextLake.Connectors.Cdc;
using ContextLake.Testing;
using Npgsql;

namespace ContextLake.Connectors.Tests.Cdc;

public sealed class CdcDatabase : IAsyncDisposable
{
    private readonly string _admin;
    private readonly string _name;

    private CdcDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        _name = name;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<CdcDatabase> CreateAsync()
    {
        var admin = PostgresTestJournal.AdminConnectionString;
        var name = "cl_cdc_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        return new CdcDatabase(admin, name, cs);
    }

    /// <summary>Slots belong to the whole cluster, so every test names its own.</summary>
    public static string NewSlotName() => "cl_slot_" + Guid.NewGuid().ToString("N")[..16];

    public CdcSettings Settings(string slot, params string[] tables) => new(ConnectionString, slot, "cl_pub", tables);

    public async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    public async Task<ulong> ConfirmedFlushAsync(string slot) =>
        CdcLsn.Parse((string)(await ScalarAsync($"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{slot}'"))!);

    /// <summary>The old walsender lets go of the slot shortly after its connection closes.</summary>
    public async Task WaitUntilSlotInactiveAsync(string slot)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await ScalarAsync($"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'") is false) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"slot {slot} stayed active");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        // A logical slot pins its database: terminate its walsender if a test left one, drop it, then the database.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await using var cmd = new NpgsqlCommand(
                """
                SELECT count(*) FROM (
                  SELECT CASE WHEN active THEN pg_terminate_backend(active_pid) ELSE pg_drop_replication_slot(slot_name) IS NULL END
                  FROM pg_replication_slots WHERE database = $1) s
                """, conn);
            cmd.Parameters.AddWithValue(_name);
            try
            {
                if ((long)(await cmd.ExecuteScalarAsync())! == 0) break;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse)
            {
                // The slot became active between the check and the drop; try again.
            }
            await Task.Delay(100);
        }
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", conn);
        await drop.ExecuteNonQueryAsync();
    }
}
