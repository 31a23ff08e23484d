// Generated delta sets show the algebra is order-free, retraction-exact, clone-safe, durable and agrees with plain LINQ.
using System.Text.Json;
using ContextLake.Views.Algebra;
using ContextLake.Views.Definitions;
using CsCheck;
using Xunit;
using static ContextLake.Views.Tests.Algebra.Fixtures;

namespace ContextLake.Views.Tests.Algebra;

public sealed class GroupAggregateProperties
{
    private static readonly decimal?[] Xs = [null, -2.5m, 0m, 1m, 1.5m, 1.50m, 3m, 10m];
    private static readonly string?[] Ss = [null, "a", "b", "B", "10", "9"];
    private static readonly string[] Ms = ["1", "2.0", "2", "\"a\"", "\"Z\"", "true", "false", """{"k":1}""", "[1,2]", "null"];

    /// <summary>Times within 50 minutes, so with an hour of allowed lateness no delta is ever late in any order.</summary>
    /// <summary>Amounts whose totals need more than 28 digits or leave the decimal range, in some orders and not in others.</summary>
    private static readonly decimal?[] EdgeXs =
    [
        79228162514264337593543950335m, -79228162514264337593543950335m, 40000000000000000000000000000m,
        0.0000000000000000000000000001m, -0.0000000000000000000000000007m, 1234567890.123456789012345678m,
        987654321987654321.9876543219m, 3.1415926535897932384626433833m, 1m,
    ];

    private static Gen<List<(Row Row, bool Retracted)>> RowsOf(decimal?[] xs) =>
        Gen.Select(Gen.Int[0, 3000], Gen.Int[0, xs.Length - 1], Gen.Int[0, Ss.Length - 1], Gen.Int[0, Ms.Length - 1], Gen.Int[0, 3],
                (sec, x, s, m, r) => (Row: new Row(0, sec * 1000L, xs[x], Ss[s], Ms[m]), Retracted: r == 0))
            .Array[0, 40].Select(rows => rows.Select((r, i) => (r.Row with { Id = i }, r.Retracted)).ToList());

    private static readonly Gen<List<(Row Row, bool Retracted)>> GenRows = RowsOf(Xs);

    private static readonly Gen<(List<(Row Row, bool Retracted)> Rows, int Seed)> GenCase = Gen.Select(GenRows, Gen.Int);

    [Fact]
    public void any_arrival_order_of_the_same_deltas_reads_the_same()
    {
        GenCase.Sample((rows, seed) =>
        {
            var deltas = Deltas(rows);
            foreach (var view in AllViews)
            {
                var inOrder = Fold(view, deltas);
                var shuffled = Fold(view, Shuffled(deltas, seed));
                Assert.Equal(Observe(view, inOrder), Observe(view, shuffled));
                Assert.Equal(SnapshotJson(inOrder), SnapshotJson(shuffled));
            }
        }, iter: 150);
    }

    [Fact]
    public void sums_at_the_edges_of_the_decimal_range_do_not_depend_on_arrival_order()
    {
        // A view key's deltas come from many entity partitions, interleaved differently on every run and replay: totals that
        // round, or pass outside the range on the way, must still come out the same (exact, rounded once when read).
        Gen.Select(RowsOf(EdgeXs), Gen.Int, Gen.Int[1, 12]).Sample((rows, seed, batch) =>
        {
            var deltas = Deltas(rows);
            foreach (var view in AllViews)
            {
                var inOrder = Fold(view, deltas);
                var shuffled = new GroupAggregate(view);
                var mixed = Shuffled(deltas, seed);
                for (var i = 0; i < mixed.Count; i += batch) shuffled.Apply(mixed.Skip(i).Take(batch).ToArray());
                Assert.Equal(Observe(view, inOrder), Observe(view, shuffled));
                Assert.Equal(SnapshotJson(inOrder), SnapshotJson(shuffled));
                var restored = GroupAggregate.FromSnapshot(view, JsonSerializer.Deserialize(SnapshotJson(shuffled), AlgebraTestJson.Default.GroupAggregateSnapshot)!);
                Assert.Equal(Observe(view, inOrder), Observe(view, restored));
            }
        }, iter: 150);
    }

    [Fact]
    public void deltas_applied_in_batches_read_the_same_as_one_by_one()
    {
        // A partition folds a key's deltas of one epoch as one batch: any cut of the stream into batches gives one answer.
        Gen.Select(GenRows, Gen.Int, Gen.Int[1, 12]).Sample((rows, seed, batch) =>
        {
            var deltas = Shuffled(Deltas(rows), seed);
            foreach (var view in AllViews)
            {
                var batched = new GroupAggregate(view);
                for (var i = 0; i < deltas.Count; i += batch) batched.Apply(deltas.Skip(i).Take(batch).ToArray());
                var single = Fold(view, deltas);
                Assert.Equal(Observe(view, single), Observe(view, batched));
                Assert.Equal(SnapshotJson(single), SnapshotJson(batched));
            }
        }, iter: 150);
    }

    [Fact]
    public void inserting_then_retracting_rows_leaves_the_aggregate_as_if_they_never_came()
    {
        Gen.Select(GenRows, GenRows, Gen.Int).Sample((kept, transient, seed) =>
        {
            var offset = kept.Count;
            var extra = transient.Select(r => (r.Row with { Id = r.Row.Id + offset }, true));
            foreach (var view in AllViews)
            {
                var without = Fold(view, Deltas(kept));
                var with = Fold(view, Shuffled(Deltas(kept).Concat(Deltas(extra)), seed));
                Assert.Equal(Observe(view, without), Observe(view, with));
                Assert.Equal(JsonSerializer.Serialize(without.ToSnapshot().Panes), JsonSerializer.Serialize(with.ToSnapshot().Panes));
            }
        }, iter: 100);
    }

    [Fact]
    public void a_clone_continued_with_the_remaining_deltas_matches_one_aggregate_fed_everything_and_the_original_is_untouched()
    {
        Gen.Select(GenRows, Gen.Int, Gen.Int[0, 100]).Sample((rows, seed, cutPercent) =>
        {
            var deltas = Shuffled(Deltas(rows), seed);
            var cut = deltas.Count * cutPercent / 100;
            foreach (var view in AllViews)
            {
                var first = Fold(view, deltas.Take(cut));
                var before = SnapshotJson(first);
                var clone = first.Clone();
                foreach (var d in deltas.Skip(cut)) clone.Apply(d);

                Assert.Equal(Observe(view, Fold(view, deltas)), Observe(view, clone));
                Assert.Equal(before, SnapshotJson(first));
                Assert.Equal(Observe(view, Fold(view, deltas.Take(cut))), Observe(view, first));
            }
        }, iter: 100);
    }

    [Fact]
    public void a_snapshot_survives_a_source_generated_json_round_trip_and_keeps_folding_alike()
    {
        Gen.Select(GenRows, GenRows, Gen.Int).Sample((before, after, seed) =>
        {
            var later = Deltas(after.Select(r => (r.Row with { Id = r.Row.Id + 1000 }, r.Retracted)));
            foreach (var view in AllViews)
            {
                var original = Fold(view, Shuffled(Deltas(before), seed));
                var json = SnapshotJson(original);
                var restored = GroupAggregate.FromSnapshot(view, JsonSerializer.Deserialize(json, AlgebraTestJson.Default.GroupAggregateSnapshot)!);

                Assert.Equal(json, SnapshotJson(restored));
                Assert.Equal(Observe(view, original), Observe(view, restored));
                foreach (var d in later)
                {
                    original.Apply(d);
                    restored.Apply(d);
                }
                Assert.Equal(Observe(view, original), Observe(view, restored));
            }
        }, iter: 60);
    }

    [Fact]
    public void aggregates_agree_with_linq_over_the_rows_that_survive_retraction()
    {
        GenCase.Sample((rows, seed) =>
        {
            var deltas = Shuffled(Deltas(rows), seed);
            var surviving = rows.Where(r => !r.Retracted).Select(r => r.Row).ToList();

            ExpectLinq(surviving, Fold(Plain, deltas).Read(T0, null));

            var tumbling = Fold(Tumbling, deltas);
            for (var k = 0; k < 6; k++)
            {
                var read = tumbling.Read(T0.AddMinutes(10 * k + 3), null);
                var window = read.Window!;
                Assert.Equal(T0.AddMinutes(10 * k), window.Start);
                ExpectLinq(surviving.Where(r => r.Time >= window.Start && r.Time < window.End).ToList(), read);
            }
        }, iter: 200);
    }

    private static void ExpectLinq(List<Row> rows, GroupValues read)
    {
        var xs = rows.Where(r => r.X is not null).Select(r => r.X!.Value).ToList();
        var ss = rows.Where(r => r.S is not null).Select(r => r.S!).ToList();
        var v = read.Values;

        Assert.Equal(rows.Count, v["n"].GetDecimal());
        Assert.Equal(xs.Count, v["nx"].GetDecimal());
        Assert.Equal(xs.Distinct().Count(), v["dx"].GetDecimal());
        Assert.Equal(xs.Sum(), v["sx"].GetDecimal());
        if (xs.Count == 0)
        {
            Assert.Equal(JsonValueKind.Null, v["ax"].ValueKind);
            Assert.Equal(JsonValueKind.Null, v["lox"].ValueKind);
            Assert.Equal(JsonValueKind.Null, v["hix"].ValueKind);
        }
        else
        {
            Assert.Equal(xs.Sum() / xs.Count, v["ax"].GetDecimal());
            Assert.Equal(xs.Min(), v["lox"].GetDecimal());
            Assert.Equal(xs.Max(), v["hix"].GetDecimal());
        }

        var latest = rows.MaxBy(r => r.Version);
        if (latest?.X is { } lastX) Assert.Equal(lastX, v["lastx"].GetDecimal());
        else Assert.Equal(JsonValueKind.Null, v["lastx"].ValueKind);

        Assert.Equal(ss.Distinct(StringComparer.Ordinal).Count(), v["ds"].GetDecimal());
        if (ss.Count == 0)
        {
            Assert.Equal(JsonValueKind.Null, v["los"].ValueKind);
            Assert.Equal(JsonValueKind.Null, v["his"].ValueKind);
        }
        else
        {
            Assert.Equal(ss.Min(StringComparer.Ordinal), v["los"].GetString());
            Assert.Equal(ss.Max(StringComparer.Ordinal), v["his"].GetString());
        }
    }
}
