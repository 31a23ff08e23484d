// Kafka → Redis (StackExchange.Redis): credits and debits as one integer key per account, updated with
// INCRBY; per record two commands awaited one after the other, micro-batched all of a batch's INCRBYs
// pipelined without MULTI (as a Redis sink writes). The decision read is one MGET of the 20 keys.
using ContextLake.Benchmarks.Support;
using StackExchange.Redis;

namespace ContextLake.Benchmarks.Comparison;

public sealed class RedisPipeline(ConnectionMultiplexer redis, bool microBatch) : ServingStorePipeline(microBatch)
{
    private static readonly RedisKey[] ReadKeys = BankWorkload.AccountIds.Select(a => (RedisKey)$"credits:{a}")
        .Concat(BankWorkload.AccountIds.Select(a => (RedisKey)$"debits:{a}")).ToArray();

    private readonly IDatabase _db = redis.GetDatabase();

    public override string Name => MicroBatch ? "Kafka → Redis, micro-batched" : "Kafka → Redis, per record";

    public override Task ResetAsync() => _db.KeyDeleteAsync(ReadKeys);

    protected override async Task ApplyOneAsync(Transfer transfer)
    {
        await _db.StringIncrementAsync($"credits:{transfer.ToAccount}", transfer.Amount);
        await _db.StringIncrementAsync($"debits:{transfer.FromAccount}", transfer.Amount);
    }

    protected override Task ApplyBatchAsync(IReadOnlyDictionary<string, (long Sum, long Count)> credits, IReadOnlyDictionary<string, (long Sum, long Count)> debits) =>
        Task.WhenAll(credits.Select(c => _db.StringIncrementAsync($"credits:{c.Key}", c.Value.Sum))
            .Concat(debits.Select(d => _db.StringIncrementAsync($"debits:{d.Key}", d.Value.Sum))));

    public override async Task<(long Credits, long Debits)> ReadBalancesAsync()
    {
        var values = await _db.StringGetAsync(ReadKeys);
        long credits = 0, debits = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i].IsNull ? 0 : (long)values[i];
            if (i < BankWorkload.Accounts) credits += v; else debits += v;
        }
        return (credits, debits);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
