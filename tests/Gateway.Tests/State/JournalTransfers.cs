// SQL over the journal database itself, as an oracle: the transfer events the entity partitions' run rows
// hold (each row an EntityRunRow, {"events":[{"stream","offset","entityType","entityId","data"}…]}), copied
// once into a temporary table of the connection, then counted and grouped. A view value at an epoch must equal
// GROUP BY over the events that epoch commits: those at or below the epoch's vector for their stream.
using System.Data.Common;
using ContextLake.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ContextLake.Gateway.Tests.State;

public sealed class JournalTransfers : IAsyncDisposable
{
    private readonly DbConnection _db;
    private readonly bool _sqlite;

    private JournalTransfers(DbConnection db, bool sqlite)
    {
        _db = db;
        _sqlite = sqlite;
    }

    /// <summary>A connection of its own to the journal's database (a node may still be writing to it).</summary>
    public static async Task<DbConnection> OpenAsync(TestJournal journal)
    {
        DbConnection db = journal switch
        {
            SqliteTestJournal s => new SqliteConnection($"Data Source={Path.Combine(s.Options.DataDirectory!, "journal.db")};Mode=ReadOnly;Pooling=False"),
            PostgresTestJournal p => new NpgsqlConnection(p.ConnectionString),
            _ => throw new ArgumentOutOfRangeException(nameof(journal)),
        };
        await db.OpenAsync();
        return db;
    }

    /// <summary>How many rows the journal table holds, of every persistent actor.</summary>
    public static async Task<long> JournalRowsAsync(TestJournal journal)
    {
        await using var db = await OpenAsync(journal);
        return await ScalarAsync(db, "SELECT count(*) FROM journal");
    }

    /// <summary>Copies every transfer event of the entity partitions' run rows, as the journal holds them now.</summary>
    public static async Task<JournalTransfers> LoadAsync(TestJournal journal)
    {
        var db = await OpenAsync(journal);
        var sqlite = db is SqliteConnection;
        var events = sqlite
            ? """
              SELECT json_extract(e.value, '$.stream') AS stream, json_extract(e.value, '$.offset') AS "offset",
                     json_extract(e.value, '$.entityId') AS entity_id,
                     json_extract(e.value, '$.data.to_account') AS to_account, json_extract(e.value, '$.data.from_account') AS from_account,
                     json_extract(e.value, '$.data.amount') AS amount
              FROM journal j, json_each(CAST(j.message AS TEXT), '$.events') e
              WHERE j.persistence_id LIKE 'entity-%' AND json_extract(e.value, '$.entityType') = 'transfer'
              """
            : """
              SELECT e ->> 'stream' AS stream, (e ->> 'offset')::bigint AS "offset", e ->> 'entityId' AS entity_id,
                     e -> 'data' ->> 'to_account' AS to_account, e -> 'data' ->> 'from_account' AS from_account,
                     (e -> 'data' ->> 'amount')::numeric AS amount
              FROM journal j, jsonb_array_elements(convert_from(j.message, 'UTF8')::jsonb -> 'events') e
              WHERE j.persistence_id LIKE 'entity-%' AND e ->> 'entityType' = 'transfer'
              """;
        await ExecAsync(db, $"CREATE TEMP TABLE transfers AS {events}");
        await ExecAsync(db, "CREATE TEMP TABLE upto (stream TEXT PRIMARY KEY, \"offset\" BIGINT NOT NULL)");
        return new JournalTransfers(db, sqlite);
    }

    /// <summary>Transfer events journaled; distinct (stream, offset) among them; distinct entity ids.</summary>
    public async Task<(long Events, long Positions, long Entities)> CountAsync()
    {
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = """
            SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT stream, "offset" FROM transfers) d),
                   (SELECT count(DISTINCT entity_id) FROM transfers)
            FROM transfers
            """;
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
    }

    /// <summary>
    /// SELECT <paramref name="column"/>, COUNT(*), SUM(amount) … GROUP BY <paramref name="column"/> over the transfers an
    /// epoch with this vector commits: each event at or below its stream's offset in the vector.
    /// </summary>
    public async Task<Dictionary<string, (long N, decimal Total)>> GroupAsync(string column, IReadOnlyDictionary<string, long> vector)
    {
        if (column is not ("to_account" or "from_account")) throw new ArgumentOutOfRangeException(nameof(column), column, "to_account or from_account");
        await ExecAsync(_db, "DELETE FROM upto");
        foreach (var (stream, offset) in vector)
        {
            await using var insert = _db.CreateCommand();
            insert.CommandText = "INSERT INTO upto (stream, \"offset\") VALUES (@s, @o)";
            Parameter(insert, "s", stream);
            Parameter(insert, "o", offset);
            await insert.ExecuteNonQueryAsync();
        }
        await using var cmd = _db.CreateCommand();
        cmd.CommandText = $"""
            SELECT t.{column}, count(*), sum(t.amount) FROM transfers t JOIN upto u ON u.stream = t.stream AND t."offset" <= u."offset"
            GROUP BY t.{column}
            """;
        var groups = new Dictionary<string, (long, decimal)>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) groups[r.GetString(0)] = (r.GetInt64(1), _sqlite ? r.GetInt64(2) : r.GetDecimal(2));
        return groups;
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static void Parameter(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }

    private static async Task ExecAsync(DbConnection db, string sql)
    {
        await using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.CommandTimeout = 300;
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(DbConnection db, string sql)
    {
        await using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
