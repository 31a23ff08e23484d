// The raw SQLite insert rate under the journal: Microsoft.Data.Sqlite alone (no Akka, no plugin), WAL, synchronous=NORMAL,
// 1,000 rows per transaction, into a fresh table shaped like Akka.Persistence.Sql's journal (its columns, its unique
// (persistence_id, sequence_number) index and its two other indexes). Once one ~170-byte JSON event per row, once the same
// events packed 64 per row, as a partition packs its part of a run: what the disk and SQLite allow with nothing in the way;
// and packed rows committed one per transaction at synchronous=FULL (the journal's setting): what one commit costs.
using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;

namespace ContextLake.Benchmarks.Ingest;

public sealed record SqliteRate(long Rows, int EventsPerRow, double MeanRowBytes, double Seconds, int RowsPerTransaction, string Synchronous)
{
    public double RowsPerSecond => Rows / Seconds;
    public double EventsPerSecond => Rows * EventsPerRow / Seconds;
}

public static class SqliteRawRate
{
    public const int RowsPerTransaction = 1_000;
    public const int Packed = 64;

    /// <summary>
    /// Inserts <paramref name="events"/> events one per row, then packed <see cref="Packed"/> per row, each on a fresh file, 1,000 rows per
    /// transaction at synchronous=NORMAL; then <paramref name="commits"/> packed rows committed one per transaction at synchronous=FULL
    /// (SQLite's default, the node's journal's), which measures what one commit costs.
    /// </summary>
    public static (SqliteRate Single, SqliteRate Packed, SqliteRate Committed) Measure(int events, int commits)
    {
        var dir = Directory.CreateTempSubdirectory("contextlake-sqlite-raw-").FullName;
        try
        {
            return (Insert(Path.Combine(dir, "single.db"), events, 1, RowsPerTransaction, "NORMAL"),
                    Insert(Path.Combine(dir, "packed.db"), events, Packed, RowsPerTransaction, "NORMAL"),
                    Insert(Path.Combine(dir, "committed.db"), commits * Packed, Packed, 1, "FULL"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static SqliteRate Insert(string file, int events, int perRow, int rowsPerTransaction, string synchronous)
    {
        using var conn = new SqliteConnection($"Data Source={file};Pooling=False");
        conn.Open();
        Execute(conn, $$"""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous={{synchronous}};
            CREATE TABLE journal (
              ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL, deleted BIT NOT NULL,
              persistence_id NVARCHAR(255) NOT NULL, sequence_number INTEGER NOT NULL, message VARBINARY NOT NULL,
              manifest NVARCHAR(500) NULL, identifier INTEGER NULL, writer_uuid NVARCHAR(128) NULL);
            CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number);
            CREATE INDEX journal_created_idx ON journal (created);
            CREATE INDEX journal_sequence_number_idx ON journal (sequence_number);
            """);

        // Every row's message is built before the clock starts: the clock sees SQLite only.
        var rows = (events + perRow - 1) / perRow;
        var messages = new byte[rows][];
        for (var r = 0; r < rows; r++)
        {
            var text = new StringBuilder(perRow == 1 ? "" : "{\"events\":[");
            for (var e = r * perRow; e < Math.Min(events, (r + 1) * perRow); e++)
            {
                if (e > r * perRow) text.Append(',');
                text.Append(Event(e));
            }
            if (perRow > 1) text.Append("]}");
            messages[r] = Encoding.UTF8.GetBytes(text.ToString());
        }

        using var insert = conn.CreateCommand();
        insert.CommandText = "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
                             "VALUES ($created, 0, $pid, $seq, $message, 'er', 7, 'bench')";
        var created = insert.Parameters.Add("$created", SqliteType.Integer);
        var pid = insert.Parameters.Add("$pid", SqliteType.Text);
        var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
        var message = insert.Parameters.Add("$message", SqliteType.Blob);
        var partitions = Enumerable.Range(0, 16).Select(p => $"entity-{p}").ToArray();
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows; start += rowsPerTransaction)
        {
            using var tx = conn.BeginTransaction();
            insert.Transaction = tx;
            for (var r = start; r < Math.Min(rows, start + rowsPerTransaction); r++)
            {
                created.Value = DateTime.UtcNow.Ticks;
                pid.Value = partitions[r % partitions.Length];
                seq.Value = r / partitions.Length + 1;
                message.Value = messages[r];
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        return new SqliteRate(rows, perRow, messages.Average(m => (double)m.Length), seconds, rowsPerTransaction, synchronous);
    }

    /// <summary>An ingested transfer as the journal holds it, about 170 bytes of JSON.</summary>
    private static string Event(int i) =>
        $"{{\"stream\":\"http:writes\",\"offset\":{i + 1},\"time\":\"2026-12-01T12:00:00Z\",\"type\":\"transfer\",\"id\":\"t{i}\"," +
        $"\"kind\":\"Event\",\"data\":{{\"from_account\":\"a{i % 10}\",\"to_account\":\"a{(i + 3) % 10}\",\"amount\":{i % 1000}}}}}";

    private static void Execute(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
