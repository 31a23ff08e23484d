// The PostgreSQL server the suite's scenarios share (the comparison's store, the cluster's journal, --postgres journals):
// the one CONTEXTLAKE_TEST_POSTGRES names when the test command started one; otherwise a throwaway server of the suite's
// own (Debian's package, installed when missing), started on first use, named in that variable for the rest of the run
// and stopped when the suite ends.
using ContextLake.Testing;
using Npgsql;

namespace ContextLake.Benchmarks.Support;

public static class SuitePostgres
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? _own;

    public static async Task EnsureAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresTestJournal.EnvironmentVariable))) return;
            await DebianPackage.EnsureAsync("postgresql", "/usr/lib/postgresql");
            _own = await PostgresServer.StartAsync();
            // The server's own string turns pooling off (for tests that restart it); the suite's databases pool.
            var admin = new NpgsqlConnectionStringBuilder(_own.ConnectionString) { Pooling = true }.ConnectionString;
            Environment.SetEnvironmentVariable(PostgresTestJournal.EnvironmentVariable, admin);
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task StopAsync()
    {
        if (_own is null) return;
        NpgsqlConnection.ClearAllPools();
        await _own.DisposeAsync();
        Environment.SetEnvironmentVariable(PostgresTestJournal.EnvironmentVariable, null);
        _own = null;
    }
}
