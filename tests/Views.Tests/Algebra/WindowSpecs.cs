// Worked examples of tumbling, hopping and session reads, spans, lateness and retention on event time.
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Definitions;
using Xunit;
using static ContextLake.Views.Tests.Algebra.Fixtures;

namespace ContextLake.Views.Tests.Algebra;

public sealed class WindowSpecs
{
    private static readonly IReadOnlyList<AggregateColumn> CountOnly = [new(AggregateFunction.Count, null, "n")];

    private static TimeSpan Min(double m) => TimeSpan.FromMinutes(m);

    private static GroupAggregate With(WindowSpec? window, params double[] minutes)
    {
        var g = new GroupAggregate(View(window, CountOnly));
        foreach (var m in minutes) g.Apply(At(m));
        return g;
    }

    private static ViewDelta At(double minutes, int weight = 1) =>
        new(weight, T0 + Min(minutes), new EventVersion((T0 + Min(minutes)).UtcTicks, "s", (long)(minutes * 1000)), [ValueKey.Null]);

    private static string Count(GroupValues v) => Values(v, "n");

    private static void ExpectWindow(GroupValues v, double fromMinutes, double toMinutes)
    {
        Assert.NotNull(v.Window);
        Assert.Equal(new WindowBounds(T0 + Min(fromMinutes), T0 + Min(toMinutes)), v.Window);
    }

    [Fact]
    public void a_view_without_a_window_ignores_the_read_time_and_rejects_a_span()
    {
        var g = With(null, 1, 500);
        var read = g.Read(T0.AddYears(-3), null);
        Assert.Equal("2", Count(read));
        Assert.Null(read.Window);
        var error = Assert.Throws<InvalidWindowReadException>(() => g.Read(T0, Min(10)));
        Assert.Equal("view orders_by_account has no window; window= applies to windowed views only", error.Message);
    }

    [Fact]
    public void a_tumbling_read_returns_the_window_holding_the_time()
    {
        var g = With(new TumblingWindow(Min(10)), 1, 9, 12);
        var read = g.Read(T0 + Min(5), null);
        Assert.Equal("2", Count(read));
        ExpectWindow(read, 0, 10);
        Assert.Equal("0", Count(g.Read(T0 + Min(25), null)));
    }

    [Fact]
    public void a_tumbling_span_covers_whole_windows_ending_with_the_one_holding_the_time()
    {
        var g = With(new TumblingWindow(Min(10)), 1, 9, 12, 25);
        var read = g.Read(T0 + Min(12), Min(20));
        Assert.Equal("3", Count(read));
        ExpectWindow(read, 0, 20);
    }

    [Fact]
    public void a_tumbling_span_must_be_a_multiple_of_the_size()
    {
        var g = With(new TumblingWindow(Min(10)), 1);
        var error = Assert.Throws<InvalidWindowReadException>(() => g.Read(T0, Min(15)));
        Assert.Equal("view orders_by_account: window= 15m must be a multiple of the tumbling size 10m", error.Message);
    }

    [Fact]
    public void a_span_must_be_positive()
    {
        var g = With(new SessionWindow(Min(2)), 1);
        var error = Assert.Throws<InvalidWindowReadException>(() => g.Read(T0, TimeSpan.Zero));
        Assert.Contains("window= must be positive", error.Message);
    }

    [Fact]
    public void a_span_longer_than_the_kept_history_is_rejected_naming_the_largest_allowed()
    {
        var g = With(new TumblingWindow(Min(10)) { AllowedLateness = Min(60) }, 1);
        Assert.Equal("1", Count(g.Read(T0, Min(120))));
        var error = Assert.Throws<InvalidWindowReadException>(() => g.Read(T0, Min(130)));
        Assert.Equal("view orders_by_account: window= 2h10m is longer than the history kept; the largest allowed span is 2h", error.Message);

        var session = With(new SessionWindow(Min(90)) { AllowedLateness = Min(30) }, 1);
        var sessionError = Assert.Throws<InvalidWindowReadException>(() => session.Read(T0, Min(121)));
        Assert.Contains("the largest allowed span is 2h", sessionError.Message);
    }

    [Fact]
    public void a_hopping_read_returns_the_hop_window_ending_at_the_next_slide_boundary()
    {
        var g = With(new HoppingWindow(Min(10), Min(5)), 1, 6, 12);
        var early = g.Read(T0 + Min(7), null);
        Assert.Equal("2", Count(early));
        ExpectWindow(early, 0, 10);
        var later = g.Read(T0 + Min(12), null);
        Assert.Equal("2", Count(later));
        ExpectWindow(later, 5, 15);
    }

    [Fact]
    public void a_hopping_span_is_a_multiple_of_the_slide_ending_at_the_next_slide_boundary()
    {
        var g = With(new HoppingWindow(Min(10), Min(5)), 1, 6, 12);
        var read = g.Read(T0 + Min(12), Min(15));
        Assert.Equal("3", Count(read));
        ExpectWindow(read, 0, 15);
        var error = Assert.Throws<InvalidWindowReadException>(() => g.Read(T0, Min(7)));
        Assert.Equal("view orders_by_account: window= 7m must be a multiple of the hopping slide 5m", error.Message);
    }

    [Fact]
    public void a_hopping_window_whose_size_is_not_a_multiple_of_the_slide_still_reads_exactly()
    {
        var g = With(new HoppingWindow(Min(10), Min(4)), 1, 3, 11);
        var read = g.Read(T0 + Min(9), null);
        ExpectWindow(read, 2, 12);
        Assert.Equal("2", Count(read));
    }

    [Fact]
    public void a_session_read_returns_the_latest_session_at_or_before_the_time()
    {
        var g = With(new SessionWindow(Min(2)), 0, 1, 2.5, 10, 11);
        var first = g.Read(T0 + Min(5), null);
        Assert.Equal("3", Count(first));
        ExpectWindow(first, 0, 4.5);
        var second = g.Read(T0 + Min(12), null);
        Assert.Equal("2", Count(second));
        ExpectWindow(second, 10, 13);
        var partial = g.Read(T0 + Min(10.5), null);
        Assert.Equal("1", Count(partial));
    }

    [Fact]
    public void a_session_read_before_any_row_has_no_window_and_empty_values()
    {
        var g = With(new SessionWindow(Min(2)), 10);
        var read = g.Read(T0, null);
        Assert.Null(read.Window);
        Assert.Equal("0", Count(read));
    }

    [Fact]
    public void a_session_span_reads_every_row_in_the_look_back_ending_at_the_time()
    {
        var g = With(new SessionWindow(Min(2)), 0, 1, 2.5, 10, 11, 20);
        var read = g.Read(T0 + Min(11), Min(10));
        Assert.Equal("3", Count(read));
        Assert.Equal(new WindowBounds(T0 + Min(1), T0 + Min(11)), read.Window);
    }

    [Fact]
    public void retracting_every_row_at_an_instant_splits_the_session_there()
    {
        var g = With(new SessionWindow(Min(2)), 0, 1.5, 3);
        Assert.Equal("3", Count(g.Read(T0 + Min(4), null)));
        g.Apply(At(1.5, -1));
        var read = g.Read(T0 + Min(4), null);
        Assert.Equal("1", Count(read));
        ExpectWindow(read, 3, 5);
    }

    [Fact]
    public void late_tumbling_events_are_counted_not_aggregated()
    {
        var g = With(new TumblingWindow(Min(10)) { AllowedLateness = Min(5) }, 30);
        g.Apply(At(14));
        g.Apply(At(21));
        Assert.Equal(1, g.LateEvents);
        var read = g.Read(T0 + Min(14), null);
        Assert.Equal("0", Count(read));
        Assert.Equal(1, read.Late);
        Assert.Equal("1", Count(g.Read(T0 + Min(21), null)));
    }

    [Fact]
    public void a_hopping_event_is_late_once_the_last_hop_window_holding_it_has_closed()
    {
        var g = With(new HoppingWindow(Min(10), Min(5)), 30);
        g.Apply(At(19));
        g.Apply(At(22));
        g.Apply(At(25));
        Assert.Equal(2, g.LateEvents);
        Assert.Equal("2", Count(g.Read(T0 + Min(30), Min(10))));
    }

    [Fact]
    public void a_session_event_is_late_once_its_gap_and_the_lateness_have_passed()
    {
        var g = With(new SessionWindow(Min(2)) { AllowedLateness = Min(1) }, 10);
        g.Apply(At(6));
        g.Apply(At(7.5));
        Assert.Equal(1, g.LateEvents);
        Assert.Equal("2", Count(g.Read(T0 + Min(10), Min(60))));
    }

    [Fact]
    public void panes_older_than_the_retention_are_dropped()
    {
        var g = With(new TumblingWindow(Min(10)), 0, 5, 70, 120);
        Assert.Equal(2, g.ToSnapshot().Panes.Count);
        Assert.Equal("0", Count(g.Read(T0, null)));
        Assert.Equal("1", Count(g.Read(T0 + Min(70), null)));
    }
}
