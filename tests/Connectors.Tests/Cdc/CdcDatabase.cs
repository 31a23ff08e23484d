// A fresh PostgreSQL database for one CDC test (its replication slots are dropped with it), with SQL helpers.
using ContextLake.Connectors.Cdc;
using ContextLake.Testing;
using Npgsql;

namespace ContextLake.Connectors.Tests.Cdc;

public sealed class CdcDatabase : IAsyncDisposable
{
    private readonly PostgresTestJournal _database;

    private CdcDatabase(PostgresTestJournal database) => _database = database;

    public string ConnectionString => _database.ConnectionString;

    public static Task<CdcDatabase> CreateAsync() => Task.FromResult(new CdcDatabase(PostgresTestJournal.Create()));

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

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
