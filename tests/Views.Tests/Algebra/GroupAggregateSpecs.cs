// Worked examples of each aggregate function's meaning under insertion and retraction, cloning and snapshots.
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Definitions;
using Xunit;
using static ContextLake.Views.Tests.Algebra.Fixtures;

namespace ContextLake.Views.Tests.Algebra;

public sealed class GroupAggregateSpecs
{
    private static ViewDefinition One(AggregateFunction f, string? argument = "v", WindowSpec? window = null) =>
        View(window, [new AggregateColumn(f, argument, "a")]);

    private static ViewDelta D(int weight, string? json, int offset = 0, DateTimeOffset? time = null) =>
        new(weight, time ?? T0, new EventVersion((time ?? T0).UtcTicks, "s", offset), [json is null ? ValueKey.Null : ValueKey.From(Raw(json))]);

    private static string Read(GroupAggregate g) => Values(g.Read(T0, null), "a");

    [Fact]
    public void a_retracted_row_no_longer_counts_towards_min()
    {
        var g = new GroupAggregate(One(AggregateFunction.Min));
        g.Apply(D(+1, "3", 1));
        g.Apply(D(+1, "5", 2));
        Assert.Equal("3", Read(g));
        g.Apply(D(-1, "3", 1));
        Assert.Equal("5", Read(g));
        g.Apply(D(-1, "5", 2));
        Assert.Equal("null", Read(g));
    }

    [Fact]
    public void max_keeps_a_value_while_another_row_still_holds_it()
    {
        var g = new GroupAggregate(One(AggregateFunction.Max));
        g.Apply(D(+1, "7", 1));
        g.Apply(D(+1, "7.0", 2));
        g.Apply(D(+1, "2", 3));
        g.Apply(D(-1, "7", 1));
        Assert.Equal("7", Read(g));
        g.Apply(D(-1, "7.0", 2));
        Assert.Equal("2", Read(g));
    }

    [Fact]
    public void a_retraction_that_arrives_before_its_insertion_cancels_it()
    {
        var g = new GroupAggregate(One(AggregateFunction.Min));
        g.Apply(D(-1, "1", 1));
        g.Apply(D(+1, "4", 2));
        Assert.Equal("4", Read(g));
        g.Apply(D(+1, "1", 1));
        Assert.Equal("4", Read(g));
        Assert.Single(g.ToSnapshot().Panes[0].Aggregates[0].Values);
    }

    [Fact]
    public void min_and_max_compare_numbers_as_decimals_and_strings_ordinally()
    {
        var numbers = new GroupAggregate(One(AggregateFunction.Max));
        numbers.Apply(D(+1, "9", 1));
        numbers.Apply(D(+1, "10", 2));
        Assert.Equal("10", Read(numbers));

        var strings = new GroupAggregate(One(AggregateFunction.Max));
        strings.Apply(D(+1, "\"9\"", 1));
        strings.Apply(D(+1, "\"10\"", 2));
        strings.Apply(D(+1, "\"2026-01-01T00:00:00.0000000Z\"", 3));
        Assert.Equal("\"9\"", Read(strings));
    }

    [Fact]
    public void mixed_kinds_order_numbers_before_strings_before_booleans_before_other_json()
    {
        var max = new GroupAggregate(One(AggregateFunction.Max));
        var min = new GroupAggregate(One(AggregateFunction.Min));
        foreach (var (json, i) in new[] { "true", "\"z\"", "100", """{"k": 1}""" }.Select((j, i) => (j, i)))
        {
            max.Apply(D(+1, json, i));
            min.Apply(D(+1, json, i));
        }
        Assert.Equal("""{"k":1}""", Read(max));
        Assert.Equal("100", Read(min));
    }

    [Fact]
    public void count_star_counts_rows_and_count_of_a_column_skips_nulls()
    {
        var view = View(null, [new(AggregateFunction.Count, null, "all"), new(AggregateFunction.Count, "v", "some")]);
        var g = new GroupAggregate(view);
        g.Apply(new ViewDelta(+1, T0, new EventVersion(1, "s", 1), [ValueKey.Null, ValueKey.From(Raw("1"))]));
        g.Apply(new ViewDelta(+1, T0, new EventVersion(1, "s", 2), [ValueKey.Null, ValueKey.Null]));
        g.Apply(new ViewDelta(+1, T0, new EventVersion(1, "s", 3), [ValueKey.Null, ValueKey.From(Raw("null"))]));
        var read = g.Read(T0, null);
        Assert.Equal("3", Values(read, "all"));
        Assert.Equal("1", Values(read, "some"));
    }

    [Fact]
    public void count_distinct_counts_values_whose_net_multiplicity_is_positive()
    {
        var g = new GroupAggregate(One(AggregateFunction.CountDistinct));
        g.Apply(D(+1, "1.0", 1));
        g.Apply(D(+1, "1", 2));
        g.Apply(D(+1, "\"1\"", 3));
        g.Apply(D(+1, "null", 4));
        Assert.Equal("2", Read(g));
        g.Apply(D(-1, "1", 2));
        Assert.Equal("2", Read(g));
        g.Apply(D(-1, "1.0", 1));
        Assert.Equal("1", Read(g));
    }

    [Fact]
    public void sum_is_exact_in_decimal_and_ignores_non_numbers()
    {
        var g = new GroupAggregate(One(AggregateFunction.Sum));
        Assert.Equal("0", Read(g));
        for (var i = 0; i < 10; i++) g.Apply(D(+1, "0.1", i));
        g.Apply(D(+1, "\"12\"", 20));
        g.Apply(D(+1, "true", 21));
        Assert.Equal("1", Read(g));
        g.Apply(D(-1, "0.1", 0));
        Assert.Equal("0.9", Read(g));
    }

    [Fact]
    public void avg_divides_the_sum_by_the_numeric_count_and_is_null_without_numbers()
    {
        var g = new GroupAggregate(One(AggregateFunction.Avg));
        Assert.Equal("null", Read(g));
        g.Apply(D(+1, "\"x\"", 1));
        Assert.Equal("null", Read(g));
        g.Apply(D(+1, "1", 2));
        g.Apply(D(+1, "2.50", 3));
        Assert.Equal("1.75", Read(g));
        g.Apply(D(+1, "0", 4));
        Assert.Equal(3.5m / 3, JsonDocument.Parse(Read(g)).RootElement.GetDecimal());
    }

    [Fact]
    public void last_follows_the_greatest_row_version_not_the_arrival_order()
    {
        var g = new GroupAggregate(One(AggregateFunction.Last));
        g.Apply(D(+1, "\"new\"", 2, T0.AddSeconds(2)));
        g.Apply(D(+1, "\"old\"", 1, T0.AddSeconds(1)));
        Assert.Equal("\"new\"", Read(g));
        g.Apply(D(-1, "\"new\"", 2, T0.AddSeconds(2)));
        Assert.Equal("\"old\"", Read(g));
    }

    [Fact]
    public void last_reports_null_when_the_newest_row_has_no_value()
    {
        var g = new GroupAggregate(One(AggregateFunction.Last));
        g.Apply(D(+1, """{"a": [1, 2.50]}""", 1, T0.AddSeconds(1)));
        Assert.Equal("""{"a":[1,2.5]}""", Read(g));
        g.Apply(D(+1, null, 2, T0.AddSeconds(2)));
        Assert.Equal("null", Read(g));
    }

    [Fact]
    public void numbers_are_written_as_plain_decimals_without_trailing_zeros()
    {
        var g = new GroupAggregate(One(AggregateFunction.Sum));
        g.Apply(D(+1, "1.2500", 1));
        g.Apply(D(+1, "1e3", 2));
        Assert.Equal("1001.25", Read(g));
        Assert.Equal(JsonValueKind.Number, g.Read(T0, null).Values["a"].ValueKind);
    }

    [Fact]
    public void values_are_keyed_by_alias_in_select_order()
    {
        var g = new GroupAggregate(Plain);
        Assert.Equal(Fixtures.Columns.Select(c => c.Alias), g.Read(T0, null).Values.Keys);
    }

    [Fact]
    public void applying_to_a_clone_never_changes_the_original()
    {
        var original = new GroupAggregate(Tumbling);
        var row = new Row(1, 1000, 5m, "a", "1");
        original.Apply(Delta(row, +1));
        var before = SnapshotJson(original);

        var clone = original.Clone();
        clone.Apply(Delta(row with { Id = 2, X = 1m }, +1));
        clone.Apply(Delta(row, -1));
        clone.Apply(Delta(row with { Id = 3, OffsetMs = 30 * 60_000 }, +1));

        Assert.Equal(before, SnapshotJson(original));
        Assert.Equal("5", Values(original.Read(T0, null), "sx"));
        Assert.Equal("1", Values(clone.Read(T0, null), "sx"));
    }

    [Fact]
    public void a_snapshot_taken_under_other_aggregates_is_refused()
    {
        var g = new GroupAggregate(One(AggregateFunction.Sum));
        g.Apply(D(+1, "1", 1));
        var snapshot = g.ToSnapshot();
        var error = Assert.Throws<ArgumentException>(() => GroupAggregate.FromSnapshot(One(AggregateFunction.Max), snapshot));
        Assert.Contains("Sum", error.Message);
    }

    [Fact]
    public void a_delta_whose_arguments_do_not_match_the_aggregates_is_refused()
    {
        var g = new GroupAggregate(One(AggregateFunction.Sum));
        Assert.Throws<ArgumentException>(() => g.Apply(new ViewDelta(1, T0, default, Array.Empty<ValueKey>())));
    }

    [Theory]
    [InlineData(AggregateFunction.Sum)]
    [InlineData(AggregateFunction.Avg)]
    public void a_sum_outside_the_decimal_range_is_reported_never_answered_until_later_rows_bring_it_back(AggregateFunction function)
    {
        var g = new GroupAggregate(One(function));
        g.Apply(D(+1, "70000000000000000000000000000", 1));
        Assert.NotEqual("null", Read(g));
        g.Apply(D(+1, "70000000000000000000000000000", 2));
        var refused = Assert.Throws<AggregateOverflowException>(() => g.Read(T0, null));
        Assert.Contains("AS a overflowed the numeric range", refused.Message);
        Assert.Contains("view orders_by_account", refused.Message);

        // The total is kept exact, through a snapshot too: taking a row back out brings the true number back.
        var restored = GroupAggregate.FromSnapshot(One(function), g.ToSnapshot());
        Assert.Throws<AggregateOverflowException>(() => restored.Read(T0, null));
        g.Apply(D(-1, "70000000000000000000000000000", 2));
        restored.Apply(D(-1, "70000000000000000000000000000", 2));
        Assert.Equal("70000000000000000000000000000", Read(g));
        Assert.Equal("70000000000000000000000000000", Read(restored));
    }

    [Fact]
    public void a_total_an_older_snapshot_marked_overflowed_never_answers_a_number_again()
    {
        // Snapshots written before totals were exact kept no value for a SUM that left the range, only the mark.
        var g = new GroupAggregate(One(AggregateFunction.Sum));
        g.Apply(D(+1, "5", 1));
        var snapshot = g.ToSnapshot();
        var pane = snapshot.Panes[0];
        var marked = snapshot with { Panes = [pane with { Aggregates = [pane.Aggregates[0] with { Sum = 0m, Overflowed = true }] }] };
        var restored = GroupAggregate.FromSnapshot(One(AggregateFunction.Sum), marked);
        restored.Apply(D(-1, "5", 1));
        Assert.Throws<AggregateOverflowException>(() => restored.Read(T0, null));
    }

    [Fact]
    public void a_total_that_needs_more_than_28_digits_is_kept_exact_and_rounded_half_to_even_only_when_read()
    {
        var g = new GroupAggregate(One(AggregateFunction.Sum));
        g.Apply(D(+1, "10000000000000000000000000000", 1));
        g.Apply(D(+1, "0.5", 2));
        Assert.Equal("10000000000000000000000000000", Read(g));
        g.Apply(D(+1, "0.5", 3));
        Assert.Equal("10000000000000000000000000001", Read(g));
        g.Apply(D(-1, "10000000000000000000000000000", 1));
        Assert.Equal("1", Read(g));
    }

    [Fact]
    public void panes_whose_sums_fit_alone_but_not_together_are_reported_when_a_window_combines_them()
    {
        var view = One(AggregateFunction.Sum, window: new HoppingWindow(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(5)) { AllowedLateness = TimeSpan.FromHours(1) });
        var g = new GroupAggregate(view);
        g.Apply(D(+1, "70000000000000000000000000000", 1, T0));
        g.Apply(D(+1, "70000000000000000000000000000", 2, T0.AddMinutes(5)));
        Assert.Throws<AggregateOverflowException>(() => g.Read(T0.AddMinutes(9), null));
    }
}
