// Agreement with SQL: random upserts, deletes and events (with out-of-order event times) go in over
// HTTP; at several epochs every view value must equal what SQLite computes with SELECT … GROUP BY over
// exactly the events that epoch commits. Upsert views check retractions; event views check
// COUNT, SUM, AVG, MIN, MAX, LAST and COUNT(DISTINCT). Amounts at the edges of the numeric model (28 significant
// digits, magnitudes near 7.9e28, steps of 1e-28, digits past the 28th rounded) must total exactly what decimal
// arithmetic gives over the rows SQL selects: the exact total, rounded once (half to even), whatever order the rows'
// entity partitions delivered them in. The oracle orders events by one stream's offsets (an epoch commits a prefix of
// it), so the node takes its HTTP writes into one write stream whatever the journal.
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace ContextLake.Gateway.Tests.Epochs;

public abstract class SqlOracleSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private static readonly string[] Owners = ["o0", "o1", "o2", "o3"];
    private static readonly string[] Merchants = ["m0", "m1", "m2", "m3", "m4"];
    private static readonly string[] Cards = ["c0", "c1", "c2", "c3", "c4", "c5"];
    private readonly SqliteConnection _oracle = new("Data Source=:memory:");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await _oracle.OpenAsync();
        Exec("""
            CREATE TABLE events (offset INTEGER, ticks INTEGER, type TEXT, id TEXT, kind TEXT,
              owner TEXT, balance INTEGER, card_id TEXT, merchant_id TEXT, amount INTEGER, country TEXT)
            """);
        // Edge amounts as the text that was sent: SQLite has no decimal type, so the oracle selects rows and C# adds them.
        Exec("CREATE TABLE edge_events (offset INTEGER, merchant_id TEXT, amount TEXT)");
    }

    public override async Task DisposeAsync()
    {
        await _oracle.DisposeAsync();
        await base.DisposeAsync();
    }

    private void Exec(string sql, params (string, object?)[] args)
    {
        using var cmd = _oracle.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    }

    private List<object?[]> Query(string sql, long v)
    {
        using var cmd = _oracle.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$v", v);
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    [Fact]
    public async Task view_values_at_several_epochs_equal_sql_group_by_over_the_committed_events()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment.WithOneWriteStream());
        await Bank.WaitForViewsAsync(node, "merchant_totals");
        foreach (var sql in new[]
        {
            "CREATE VIEW owners AS SELECT owner, COUNT(*) AS n, SUM(balance) AS total, MIN(balance) AS low, MAX(balance) AS high FROM account WHERE balance >= 0 GROUP BY owner",
            "CREATE VIEW card_merchants AS SELECT card_id, COUNT(DISTINCT merchant_id) AS merchants, MIN(amount) AS smallest FROM card_tx WHERE country <> 'XX' GROUP BY card_id",
        })
        {
            var (status, body, _) = await node.PostJson("v1/views", JsonSerializer.Serialize(new { sql }));
            Assert.True(status == 201, $"{status} {body}");
        }
        await Bank.WaitForViewsAsync(node, "owners", "card_merchants");

        var random = new Random(7);
        var baseTime = DateTimeOffset.UtcNow.AddHours(-1);
        var checkpoints = new List<(long Epoch, long Offset)>();
        for (var batch = 0; batch < 80; batch++)
        {
            var events = Enumerable.Range(0, 1 + random.Next(8)).Select(_ => RandomEvent(random, baseTime)).ToList();
            var (status, body, _) = await node.PostJson("v1/events", JsonSerializer.Serialize(new { events = events.Select(e => e.Json).ToArray() }));
            Assert.True(status == 200, $"{status} {body}");
            var offsets = body.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64()).ToList();
            for (var i = 0; i < events.Count; i++) events[i].Record(this, offsets[i]);

            if (batch % 10 == 9)
            {
                var (_, epoch) = await node.GetJson($"v1/epoch");
                var (readStatus, read, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new
                {
                    reads = new[] { new { view = "owners", key = "o0" } },
                    after = new[] { $"http:writes@{offsets.Max()}" },
                }));
                Assert.Equal(200, readStatus);
                var e = read.GetProperty("epoch");
                checkpoints.Add((e.GetProperty("n").GetInt64(), e.GetProperty("vector").GetProperty("http:writes").GetInt64()));
                _ = epoch;
            }
        }

        Assert.True(checkpoints.Select(c => c.Offset).Distinct().Count() >= 5);
        foreach (var (n, offset) in checkpoints) await AssertViewsEqualOracle(node, n, offset);
    }

    /// <summary>Per key, amounts at one edge of the numeric model; the writer keeps every total well inside the range.</summary>
    private static readonly (string Key, string[] Amounts)[] EdgeAmounts =
    [
        ("edge-huge", ["7922816251426433759354395033", "9999999999999999999999999999", "2.5E+27", "1"]),
        ("edge-tiny", ["0.0000000000000000000000000001", "0.0000000000000000000000000007", "1e-28"]),
        ("edge-digits", ["1234567890.123456789012345678", "0.1", "987654321987654321.9876543219", "3.14159265358979323846264338327950288"]),
        ("edge-max", ["79228162514264337593543950335"]),
    ];

    [Fact]
    public async Task amounts_at_the_edges_of_the_numeric_range_total_exactly_what_decimal_arithmetic_gives()
    {
        await using var node = await NodeProcess.StartReadyAsync(Journal.Environment.WithOneWriteStream());
        var (created, createBody, _) = await node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW edges AS SELECT merchant_id, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS average, MIN(amount) AS smallest, MAX(amount) AS largest FROM card_tx GROUP BY merchant_id",
        }));
        Assert.True(created == 201, $"{created} {createBody}");
        await Bank.WaitForViewsAsync(node, "edges");

        var random = new Random(11);
        var running = EdgeAmounts.ToDictionary(e => e.Key, _ => 0m);
        var checkpoints = new List<(long Epoch, long Offset)>();
        for (var batch = 0; batch < 30; batch++)
        {
            var events = new List<(string Key, string Amount)>();
            for (var i = 0; i < 1 + random.Next(6); i++)
            {
                var (key, amounts) = EdgeAmounts[random.Next(EdgeAmounts.Length)];
                var amount = amounts[random.Next(amounts.Length)];
                if (key == "edge-max" && running[key] != 0) amount = "-" + amount;
                else if (running[key] > 0 && key != "edge-max") amount = "-" + amount;
                running[key] += decimal.Parse(amount, NumberStyles.Float, CultureInfo.InvariantCulture);
                events.Add((key, amount));
            }
            var body = "{\"events\":[" + string.Join(",", events.Select(e =>
                $$$"""{"type":"card_tx","id":"{{{Guid.NewGuid():N}}}","data":{"card_id":"c-edge","merchant_id":"{{{e.Key}}}","amount":{{{e.Amount}}}}}""")) + "]}";
            var (status, answer, _) = await node.PostJson("v1/events", body);
            Assert.True(status == 200, $"{status} {answer}");
            var offsets = answer.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64()).ToList();
            for (var i = 0; i < events.Count; i++)
                Exec("INSERT INTO edge_events (offset, merchant_id, amount) VALUES ($o, $m, $a)",
                    ("$o", offsets[i]), ("$m", events[i].Key), ("$a", events[i].Amount));
            if (batch % 6 == 5)
            {
                var e = answer.GetProperty("epoch");
                checkpoints.Add((e.GetProperty("n").GetInt64(), e.GetProperty("vector").GetProperty("http:writes").GetInt64()));
            }
        }

        foreach (var (epoch, offset) in checkpoints)
        {
            var reads = EdgeAmounts.Select(e => new { view = "edges", key = e.Key }).ToArray();
            var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { reads, epoch }));
            Assert.True(status == 200, $"read at epoch {epoch}: {status} {answer}");
            var results = answer.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("values"));
            var rows = Query("SELECT merchant_id, amount FROM edge_events WHERE offset <= $v ORDER BY offset", offset);
            foreach (var (key, _) in EdgeAmounts)
            {
                var amounts = rows.Where(r => (string)r[0]! == key)
                    .Select(r => decimal.Parse((string)r[1]!, NumberStyles.Float, CultureInfo.InvariantCulture)).ToList();
                var got = results[key];
                var at = $"edges/{key} at epoch {epoch} (offset {offset}): {got}";
                var total = ExactTotal(amounts);
                Assert.True(amounts.Count == got.GetProperty("n").GetDecimal(), $"{at}: n");
                Assert.True(total == got.GetProperty("total").GetDecimal(), $"{at}: total, want {total}");
                Assert.True((amounts.Count == 0 ? null : total / amounts.Count) == NullableOf(got.GetProperty("average")), $"{at}: average");
                Assert.True((amounts.Count == 0 ? null : amounts.Min()) == NullableOf(got.GetProperty("smallest")), $"{at}: smallest");
                Assert.True((amounts.Count == 0 ? null : amounts.Max()) == NullableOf(got.GetProperty("largest")), $"{at}: largest");
            }
        }
        Assert.True(checkpoints.Count == 5);
    }

    private async Task AssertViewsEqualOracle(NodeProcess node, long epoch, long v)
    {
        var reads = Owners.Select(o => new { view = "owners", key = o })
            .Concat(Merchants.Select(m => new { view = "merchant_totals", key = m }))
            .Concat(Cards.Select(c => new { view = "card_merchants", key = c }))
            .ToArray();
        var (status, answer, _) = await node.PostJson("v1/read", JsonSerializer.Serialize(new { reads, epoch }));
        Assert.True(status == 200, $"read at epoch {epoch}: {status} {answer}");
        Assert.Equal(epoch, answer.GetProperty("epoch").GetProperty("n").GetInt64());
        var results = answer.GetProperty("results").EnumerateArray().ToDictionary(
            r => (r.GetProperty("view").GetString()!, r.GetProperty("key").GetString()!), r => r.GetProperty("values"));

        var owners = Query("""
            WITH latest AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ticks DESC, offset DESC) AS rn
                            FROM events WHERE type = 'account' AND offset <= $v)
            SELECT owner, COUNT(*), SUM(balance), MIN(balance), MAX(balance) FROM latest
            WHERE rn = 1 AND kind = 'upsert' AND balance >= 0 GROUP BY owner
            """, v).ToDictionary(r => (string)r[0]!);
        foreach (var o in Owners)
        {
            var got = results[("owners", o)];
            var want = owners.GetValueOrDefault(o);
            var at = $"owners/{o} at epoch {epoch} (offset {v})";
            Assert.True(Num(want?[1]) == got.GetProperty("n").GetDecimal(), $"{at}: n {got}");
            Assert.True(Num(want?[2]) == got.GetProperty("total").GetDecimal(), $"{at}: total {got}");
            Assert.True(Nullable(want?[3]) == NullableOf(got.GetProperty("low")), $"{at}: low {got}");
            Assert.True(Nullable(want?[4]) == NullableOf(got.GetProperty("high")), $"{at}: high {got}");
        }

        var merchants = Query("""
            SELECT merchant_id, COUNT(*), SUM(amount), AVG(amount), MAX(amount),
                   (SELECT card_id FROM events l WHERE l.type = 'card_tx' AND l.offset <= $v AND l.merchant_id = e.merchant_id
                    ORDER BY l.ticks DESC, l.offset DESC LIMIT 1)
            FROM events e WHERE type = 'card_tx' AND offset <= $v GROUP BY merchant_id
            """, v).ToDictionary(r => (string)r[0]!);
        foreach (var m in Merchants)
        {
            var got = results[("merchant_totals", m)];
            var want = merchants.GetValueOrDefault(m);
            var at = $"merchant_totals/{m} at epoch {epoch}";
            Assert.True(Num(want?[1]) == got.GetProperty("n").GetDecimal(), $"{at}: n {got}");
            Assert.True(Num(want?[2]) == got.GetProperty("total").GetDecimal(), $"{at}: total {got}");
            Assert.True(RoundedOrNull(want?[3]) == RoundedOrNull(NullableOf(got.GetProperty("average"))), $"{at}: average {got}");
            Assert.True(Nullable(want?[4]) == NullableOf(got.GetProperty("largest")), $"{at}: largest {got}");
            Assert.True((string?)want?[5] == (got.GetProperty("last_card").ValueKind == JsonValueKind.Null ? null : got.GetProperty("last_card").GetString()), $"{at}: last_card {got}");
        }

        var cards = Query("""
            SELECT card_id, COUNT(DISTINCT merchant_id), MIN(amount) FROM events
            WHERE type = 'card_tx' AND offset <= $v AND country <> 'XX' GROUP BY card_id
            """, v).ToDictionary(r => (string)r[0]!);
        foreach (var c in Cards)
        {
            var got = results[("card_merchants", c)];
            var want = cards.GetValueOrDefault(c);
            Assert.True(Num(want?[1]) == got.GetProperty("merchants").GetDecimal(), $"card_merchants/{c} at epoch {epoch}: {got}");
            Assert.True(Nullable(want?[2]) == NullableOf(got.GetProperty("smallest")), $"card_merchants/{c} at epoch {epoch}: {got}");
        }
    }

    /// <summary>The exact sum of decimals (all multiples of 10^-28), rounded to the nearest decimal once, half to even as decimal parsing rounds.</summary>
    private static decimal ExactTotal(IEnumerable<decimal> amounts)
    {
        var one = System.Numerics.BigInteger.Pow(10, 28);
        var units = amounts.Aggregate(System.Numerics.BigInteger.Zero, (sum, a) =>
            // F28 writes a decimal's digits exactly (its scale is at most 28): the amount in units of 10^-28.
            sum + System.Numerics.BigInteger.Parse(a.ToString("F28", CultureInfo.InvariantCulture).Replace(".", ""), CultureInfo.InvariantCulture));
        var whole = System.Numerics.BigInteger.DivRem(System.Numerics.BigInteger.Abs(units), one, out var fraction);
        return decimal.Parse($"{(units.Sign < 0 ? "-" : "")}{whole}.{fraction.ToString(CultureInfo.InvariantCulture).PadLeft(28, '0')}", CultureInfo.InvariantCulture);
    }

    private static decimal Num(object? v) => v is null ? 0 : Convert.ToDecimal(v, CultureInfo.InvariantCulture);
    private static decimal? Nullable(object? v) => v is null ? null : Convert.ToDecimal(v, CultureInfo.InvariantCulture);
    private static decimal? NullableOf(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetDecimal();
    private static decimal? RoundedOrNull(object? v) => v is null ? null : Math.Round(Convert.ToDecimal(v, CultureInfo.InvariantCulture), 6);

    private sealed record OracleEvent(object Json, Action<SqlOracleSpec, long> Record);

    private static OracleEvent RandomEvent(Random random, DateTimeOffset baseTime)
    {
        // Event times wander back and forth: arrival order is not event-time order.
        var time = baseTime.AddSeconds(random.Next(0, 3000));
        var ticks = time.UtcTicks;
        var iso = time.UtcDateTime.ToString("O");
        switch (random.Next(10))
        {
            case < 4:
            {
                var id = $"acc{random.Next(15)}";
                var owner = Owners[random.Next(Owners.Length)];
                var balance = random.Next(-50, 500);
                return new(new { type = "account", id, kind = "upsert", time = iso, data = new { owner, balance } },
                    (s, o) => s.Exec("INSERT INTO events (offset, ticks, type, id, kind, owner, balance) VALUES ($o, $t, 'account', $id, 'upsert', $owner, $b)",
                        ("$o", o), ("$t", ticks), ("$id", id), ("$owner", owner), ("$b", balance)));
            }
            case 4:
            {
                var id = $"acc{random.Next(15)}";
                return new(new { type = "account", id, kind = "delete", time = iso },
                    (s, o) => s.Exec("INSERT INTO events (offset, ticks, type, id, kind) VALUES ($o, $t, 'account', $id, 'delete')",
                        ("$o", o), ("$t", ticks), ("$id", id)));
            }
            default:
            {
                var card = Cards[random.Next(Cards.Length)];
                var merchant = Merchants[random.Next(Merchants.Length)];
                var amount = random.Next(1, 500);
                var country = new[] { "US", "DE", "XX" }[random.Next(3)];
                var id = Guid.NewGuid().ToString("N");
                return new(new { type = "card_tx", id, time = iso, data = new { card_id = card, merchant_id = merchant, amount, country } },
                    (s, o) => s.Exec("INSERT INTO events (offset, ticks, type, id, kind, card_id, merchant_id, amount, country) VALUES ($o, $t, 'card_tx', $id, 'event', $c, $m, $a, $k)",
                        ("$o", o), ("$t", ticks), ("$id", id), ("$c", card), ("$m", merchant), ("$a", amount), ("$k", country)));
            }
        }
    }
}

public sealed class SqliteSqlOracleSpec() : SqlOracleSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlSqlOracleSpec() : SqlOracleSpec(JournalProvider.PostgreSql);
