// The journal plugin's SQLite connections: synchronous and busy_timeout as configured on every connection it opens,
// and a read transaction of the plugin that does not take the write lock (which stalled every writer for 150 ms).
using System.Data;
using System.Diagnostics;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using LinqToDB;
using LinqToDB.Data;
using Xunit;

namespace ContextLake.Platform.Tests.Journal;

public sealed class SqliteConnectionsSpecs : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "contextlake-sqlite-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private JournalDatabase Database(SqliteSynchronous synchronous)
    {
        var db = new JournalDatabase(new JournalOptions { DataDirectory = _dir, SqliteSynchronous = synchronous });
        db.Prepare();
        return db;
    }

    private static DataOptions Plugin(JournalDatabase db, string pluginId)
    {
        Assert.True(db.PluginConnections()!.TryGetDataOptionsFor(pluginId, out var options), pluginId);
        return options!;
    }

    [Theory]
    [InlineData(SqliteSynchronous.Normal, 1)]
    [InlineData(SqliteSynchronous.Full, 2)]
    public void every_plugin_connection_opens_with_the_configured_synchronous_and_a_busy_timeout(SqliteSynchronous setting, long pragma)
    {
        var db = Database(setting);
        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.query.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            using var conn = new DataConnection(Plugin(db, plugin));
            Assert.Equal(pragma, conn.Execute<long>("PRAGMA synchronous"));
            Assert.Equal((long)SqliteConnections.BusyTimeout.TotalMilliseconds, conn.Execute<long>("PRAGMA busy_timeout"));
        }
    }

    [Fact]
    public void postgresql_journals_keep_their_server_settings()
    {
        var db = new JournalDatabase(new JournalOptions { Provider = JournalProvider.PostgreSql, ConnectionString = "Host=127.0.0.1" });
        Assert.Null(db.PluginConnections());
        Assert.Equal("unspecified", db.ToHocon().GetString("akka.persistence.query.journal.sql.read-isolation-level"));
    }

    [Fact]
    public void a_read_transaction_of_the_plugin_leaves_the_write_lock_to_the_writer()
    {
        var db = Database(SqliteSynchronous.Normal);
        var hocon = db.ToHocon();
        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.query.journal.sql", "akka.persistence.snapshot-store.sql" })
            Assert.Equal("read-uncommitted", hocon.GetString(plugin + ".read-isolation-level"));
        // As the plugin reads the setting: "read-uncommitted" is IsolationLevel.ReadUncommitted.
        var level = Enum.Parse<IsolationLevel>(hocon.GetString("akka.persistence.query.journal.sql.read-isolation-level").Replace("-", ""), ignoreCase: true);

        using var writer = new DataConnection(Plugin(db, "akka.persistence.journal.sql"));
        writer.Execute("CREATE TABLE t (x INTEGER)");
        using var reader = new DataConnection(Plugin(db, "akka.persistence.query.journal.sql"));
        using var read = reader.BeginTransaction(level);
        Assert.Equal(0L, reader.Execute<long>("SELECT count(*) FROM t"));

        // The reader's transaction is still open: the writer's (BEGIN IMMEDIATE) gets the lock at once.
        var clock = Stopwatch.StartNew();
        using (var write = writer.BeginTransaction())
        {
            writer.Execute("INSERT INTO t VALUES (1)");
            write.Commit();
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the writer waited {clock.Elapsed} for the reader's lock");
        Assert.Equal(0L, reader.Execute<long>("SELECT count(*) FROM t"));
        read.Commit();
        Assert.Equal(1L, reader.Execute<long>("SELECT count(*) FROM t"));
    }
}
