// Kafka → PostgreSQL (Npgsql): tables credits and debits (account primary key, total, n) updated by upserts
// that add to the row; per record two autocommitted upserts, micro-batched one NpgsqlBatch of the batch's
// per-key upserts (one round trip; PostgreSQL runs a batch without BEGIN as one implicit transaction).
// The decision read is one SELECT of both tables' rows for the ten accounts.
using ContextLake.Benchmarks.Support;
using Npgsql;

namespace ContextLake.Benchmarks.Comparison;

public sealed class PostgresPipeline : ServingStorePipeline
{
    private readonly NpgsqlDataSource _source;
    private NpgsqlConnection? _writer;

    public PostgresPipeline(NpgsqlDataSource source, bool microBatch) : base(microBatch) => _source = source;

    public override string Name => MicroBatch ? "Kafka → PostgreSQL, micro-batched" : "Kafka → PostgreSQL, per record";

    public override async Task ResetAsync()
    {
        await using var cmd = _source.CreateCommand("""
            CREATE TABLE IF NOT EXISTS credits (account text PRIMARY KEY, total bigint NOT NULL, n bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS debits (account text PRIMARY KEY, total bigint NOT NULL, n bigint NOT NULL);
            TRUNCATE credits, debits;
            """);
        await cmd.ExecuteNonQueryAsync();
        _writer ??= await _source.OpenConnectionAsync();
    }

    private static string Upsert(string table) =>
        $"INSERT INTO {table} (account, total, n) VALUES ($1, $2, $3) ON CONFLICT (account) DO UPDATE SET total = {table}.total + excluded.total, n = {table}.n + excluded.n";

    protected override async Task ApplyOneAsync(Transfer transfer)
    {
        foreach (var (table, account) in new[] { ("credits", transfer.ToAccount), ("debits", transfer.FromAccount) })
        {
            await using var cmd = new NpgsqlCommand(Upsert(table), _writer) { Parameters = { new() { Value = account }, new() { Value = transfer.Amount }, new() { Value = 1L } } };
            await cmd.ExecuteNonQueryAsync();
        }
    }

    protected override async Task ApplyBatchAsync(IReadOnlyDictionary<string, (long Sum, long Count)> credits, IReadOnlyDictionary<string, (long Sum, long Count)> debits)
    {
        await using var batch = new NpgsqlBatch(_writer);
        foreach (var (table, keys) in new[] { ("credits", credits), ("debits", debits) })
            foreach (var (account, (sum, count)) in keys)
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Upsert(table)) { Parameters = { new() { Value = account }, new() { Value = sum }, new() { Value = count } } });
        await batch.ExecuteNonQueryAsync();
    }

    public override async Task<(long Credits, long Debits)> ReadBalancesAsync()
    {
        await using var cmd = _source.CreateCommand("""
            SELECT 'c', total FROM credits WHERE account = ANY($1)
            UNION ALL SELECT 'd', total FROM debits WHERE account = ANY($1)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = BankWorkload.AccountIds.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync();
        long credits = 0, debits = 0;
        while (await reader.ReadAsync())
            if (reader.GetString(0) == "c") credits += reader.GetInt64(1); else debits += reader.GetInt64(1);
        return (credits, debits);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_writer is not null) await _writer.DisposeAsync();
    }
}
