// The clients' own record of the bank transfers a cluster acknowledged, and its comparison with the cluster at the end:
// the PostgreSQL journal, queried directly, must hold each acknowledged transfer exactly once (nothing lost, nothing
// doubled), and every account's credits and debits, read through a node, must equal both the record and SQL GROUP BY
// over the journal. Also: no partition's journal was ever written by two owners in turn (a stale owner writing again).
using System.Text.Json;
using ContextLake.Testing;
using Npgsql;

namespace ContextLake.Gateway.Tests.Cluster;

public sealed class BankLedger
{
    private sealed record Sent(string From, string To, decimal Amount);

    private readonly List<Sent> _sent = new();
    private readonly NodeClient.Written _written = new();

    public int Count
    {
        get { lock (_sent) return _sent.Count; }
    }

    /// <summary>STREAM@OFFSET of the last acknowledged write of every write stream: a read after them sees every transfer.</summary>
    public string[] After => _written.After;

    /// <summary>Records transfers (as sent with NodeClient.Events) the cluster acknowledged with <paramref name="answer"/>.</summary>
    public void Acknowledged(IEnumerable<object> transfers, JsonElement answer)
    {
        lock (_sent)
        {
            foreach (var t in transfers)
            {
                var data = JsonSerializer.SerializeToElement(t).GetProperty("data");
                _sent.Add(new Sent(data.GetProperty("from_account").GetString()!, data.GetProperty("to_account").GetString()!, data.GetProperty("amount").GetDecimal()));
            }
        }
        _written.Add(answer);
    }

    /// <summary>Every difference between the record, the journal and the views read through <paramref name="node"/>; empty when none.</summary>
    public async Task<IReadOnlyList<string>> DifferencesAsync(NodeProcess node, string connectionString)
    {
        List<Sent> sent;
        lock (_sent) sent = _sent.ToList();
        var differences = new List<string>();
        var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
        {
            reads = Enumerable.Range(0, Epochs.Bank.Accounts).SelectMany(a => new object[]
            {
                new { view = "credits", key = $"a{a}" }, new { view = "debits", key = $"a{a}" },
            }).ToArray(),
            after = After,
            timeout = "30s",
        }));
        if (status != 200) return [$"final read answered {status}: {answer}"];

        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        const string transfers = """
            SELECT e FROM journal j, jsonb_array_elements(convert_from(j.message, 'UTF8')::jsonb -> 'events') e
            WHERE j.persistence_id LIKE 'entity-%' AND e ->> 'entityType' = 'transfer'
            """;
        await using (var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT e ->> 'entityId') FROM ({transfers}) t(e)", db))
        await using (var row = await count.ExecuteReaderAsync())
        {
            await row.ReadAsync();
            var (rows, distinct) = (row.GetInt64(0), row.GetInt64(1));
            if (rows != sent.Count || distinct != sent.Count)
                differences.Add($"the journal holds {rows} transfer events ({distinct} distinct); the clients had {sent.Count} acknowledged");
        }
        var journaled = new Dictionary<(string View, string Key), (long N, decimal Total)>();
        foreach (var (view, field) in new[] { ("credits", "to_account"), ("debits", "from_account") })
        {
            await using var sum = new NpgsqlCommand($"SELECT e->'data'->>'{field}', count(*), sum((e->'data'->>'amount')::numeric) FROM ({transfers}) t(e) GROUP BY 1", db);
            await using var rows = await sum.ExecuteReaderAsync();
            while (await rows.ReadAsync()) journaled[(view, rows.GetString(0))] = (rows.GetInt64(1), rows.GetDecimal(2));
        }
        foreach (var r in answer.GetProperty("results").EnumerateArray())
        {
            var view = r.GetProperty("view").GetString()!;
            var key = r.GetProperty("key").GetString()!;
            var mine = sent.Where(t => (view == "credits" ? t.To : t.From) == key).ToList();
            var (n, total) = (r.GetProperty("values").GetProperty("n").GetInt64(), r.GetProperty("values").GetProperty("total").GetDecimal());
            if (mine.Count != n || mine.Sum(t => t.Amount) != total)
                differences.Add($"{view}/{key}: view {n}, {total}; clients sent {mine.Count}, {mine.Sum(t => t.Amount)}");
            var sql = journaled.GetValueOrDefault((view, key));
            if (sql.N != n || sql.Total != total) differences.Add($"{view}/{key}: view {n}, {total}; SQL over the journal {sql.N}, {sql.Total}");
        }
        return differences;
    }

    /// <summary>
    /// Journals written by two owners in turn: for each persistence id in sequence order, a writer (Akka.Persistence's writer
    /// uuid, one per incarnation of the actor) that writes again after another one wrote. One line per case; empty when none.
    /// </summary>
    public static async Task<IReadOnlyList<string>> InterleavedWritersAsync(string connectionString)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("""
            WITH w AS (
              SELECT persistence_id, sequence_number, writer_uuid,
                     lag(writer_uuid) OVER (PARTITION BY persistence_id ORDER BY sequence_number) AS previous
              FROM journal),
            turns AS (SELECT persistence_id, writer_uuid, sequence_number FROM w WHERE previous IS DISTINCT FROM writer_uuid)
            SELECT persistence_id, writer_uuid, count(*), string_agg(sequence_number::text, ',' ORDER BY sequence_number)
            FROM turns GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1
            """, db);
        await using var rows = await command.ExecuteReaderAsync();
        var found = new List<(string Id, string Line)>();
        while (await rows.ReadAsync())
            found.Add((rows.GetString(0), $"{rows.GetString(0)}: writer {rows.GetString(1)} wrote again after another writer, {rows.GetInt64(2)} turns starting at rows {rows.GetString(3)}"));
        await rows.CloseAsync();
        var described = new List<string>();
        foreach (var id in found.Select(f => f.Id).Distinct())
        {
            // The journal's rows of that id: sequence number, writer (its first 8 characters), and the row's created column.
            await using var around = new NpgsqlCommand("""
                SELECT string_agg(sequence_number || ':' || left(writer_uuid, 8) || '@' || created, ' ' ORDER BY sequence_number)
                FROM journal WHERE persistence_id = @id
                """, db);
            around.Parameters.AddWithValue("id", id);
            described.Add($"{id} rows: {await around.ExecuteScalarAsync()}");
        }
        return found.Select(f => f.Line).Concat(described).ToList();
    }
}
