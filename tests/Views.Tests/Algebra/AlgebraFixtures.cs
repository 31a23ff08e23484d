// Shared test vocabulary for the aggregate algebra: rows, the views they feed, and a comparable rendering of reads.
using System.Text.Json;
using System.Text.Json.Serialization;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Tests.Algebra;

/// <summary>Proves the snapshot shape is source-generation friendly, as the node's own context will require.</summary>
[JsonSerializable(typeof(GroupAggregateSnapshot))]
[JsonSerializable(typeof(string))]
internal sealed partial class AlgebraTestJson : JsonSerializerContext;

/// <summary>
/// A source row. <see cref="X"/> is numeric or missing, <see cref="S"/> a string or missing, <see cref="M"/> any JSON
/// (number, string, bool, object) so MIN/MAX see mixed kinds.
/// </summary>
internal sealed record Row(int Id, long OffsetMs, decimal? X, string? S, string M)
{
    public DateTimeOffset Time => Fixtures.T0.AddMilliseconds(OffsetMs);

    public EventVersion Version => new(Time.UtcTicks, "test", Id);

    public override string ToString() => $"#{Id}@{OffsetMs}ms x={X} s={S} m={M}";
}

internal static class Fixtures
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly IReadOnlyList<AggregateColumn> Columns =
    [
        new(AggregateFunction.Count, null, "n"),
        new(AggregateFunction.Count, "x", "nx"),
        new(AggregateFunction.CountDistinct, "x", "dx"),
        new(AggregateFunction.Sum, "x", "sx"),
        new(AggregateFunction.Avg, "x", "ax"),
        new(AggregateFunction.Min, "x", "lox"),
        new(AggregateFunction.Max, "x", "hix"),
        new(AggregateFunction.Last, "x", "lastx"),
        new(AggregateFunction.Min, "s", "los"),
        new(AggregateFunction.Max, "s", "his"),
        new(AggregateFunction.CountDistinct, "s", "ds"),
        new(AggregateFunction.Max, "m", "him"),
        new(AggregateFunction.Min, "m", "lom"),
    ];

    public static ViewDefinition View(WindowSpec? window, IReadOnlyList<AggregateColumn>? columns = null) =>
        new("orders_by_account", "orders", "account", "account", columns ?? Columns, null, window, "CREATE VIEW ...");

    public static readonly ViewDefinition Plain = View(null);

    public static readonly ViewDefinition Tumbling = View(new TumblingWindow(TimeSpan.FromMinutes(10)) { AllowedLateness = TimeSpan.FromHours(1) });

    public static readonly ViewDefinition Hopping = View(new HoppingWindow(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(5)) { AllowedLateness = TimeSpan.FromHours(1) });

    public static readonly ViewDefinition Session = View(new SessionWindow(TimeSpan.FromMinutes(2)) { AllowedLateness = TimeSpan.FromHours(1) });

    public static readonly ViewDefinition[] AllViews = [Plain, Tumbling, Hopping, Session];

    public static JsonElement? Number(decimal? d) => d is { } v ? JsonDocument.Parse(v.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement.Clone() : null;

    public static JsonElement? Text(string? s) => s is null ? null : JsonSerializer.SerializeToElement(s, AlgebraTestJson.Default.String);

    public static JsonElement Raw(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static ViewDelta Delta(Row row, int weight, IReadOnlyList<AggregateColumn>? columns = null) =>
        new(weight, row.Time, row.Version, (columns ?? Columns).Select(c => ValueKey.From(c.Argument switch
        {
            null => (JsonElement?)null,
            "x" => Number(row.X),
            "s" => Text(row.S),
            _ => Raw(row.M),
        })).ToList());

    /// <summary>Every row inserted once; the retracted ones also get a -1, as a database retracts only what it inserted.</summary>
    public static List<ViewDelta> Deltas(IEnumerable<(Row Row, bool Retracted)> rows) =>
        rows.SelectMany(r => r.Retracted ? new[] { Delta(r.Row, +1), Delta(r.Row, -1) } : [Delta(r.Row, +1)]).ToList();

    public static List<T> Shuffled<T>(IEnumerable<T> items, int seed)
    {
        var list = items.ToList();
        var random = new Random(seed);
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }

    public static GroupAggregate Fold(ViewDefinition view, IEnumerable<ViewDelta> deltas)
    {
        var g = new GroupAggregate(view);
        foreach (var d in deltas) g.Apply(d);
        return g;
    }

    public static string Render(GroupValues v) =>
        string.Join(";", v.Values.Select(kv => $"{kv.Key}={kv.Value.GetRawText()}"))
        + $" | window={v.Window?.Start:O}..{v.Window?.End:O} | late={v.Late}";

    /// <summary>Reads at several times and spans that exercise every window kind; a good fingerprint of all observable state.</summary>
    public static string Observe(ViewDefinition view, GroupAggregate g)
    {
        TimeSpan? span = view.Window switch
        {
            TumblingWindow => TimeSpan.FromMinutes(20),
            HoppingWindow => TimeSpan.FromMinutes(15),
            SessionWindow => TimeSpan.FromMinutes(30),
            _ => null,
        };
        var reads = new List<string>();
        for (var k = 0; k <= 9; k++)
        {
            var at = T0.AddMinutes(k * 7 - 1);
            reads.Add(RenderRead(g, at, null));
            if (span is not null) reads.Add(RenderRead(g, at, span));
        }
        return string.Join("\n", reads);
    }

    private static string RenderRead(GroupAggregate g, DateTimeOffset at, TimeSpan? span)
    {
        try
        {
            return Render(g.Read(at, span));
        }
        catch (AggregateOverflowException e)
        {
            return e.Message;
        }
    }

    public static string SnapshotJson(GroupAggregate g) =>
        JsonSerializer.Serialize(g.ToSnapshot(), AlgebraTestJson.Default.GroupAggregateSnapshot);

    public static string Values(GroupValues v, string alias) => v.Values[alias].GetRawText();
}
