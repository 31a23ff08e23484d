// The node's epoch replica: epochs only move forward, an epoch stays readable for the history after
// it was superseded, and waiting for a position completes when an epoch covers it.
using ContextLake.Platform.Epochs;
using Xunit;

namespace ContextLake.Platform.Tests.Epochs;

public sealed class EpochClockSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    private static Epoch E(long n, long offset, double seconds) =>
        new(n, new Dictionary<string, long> { ["s"] = offset }, T0.AddSeconds(seconds));

    [Fact]
    public void an_older_or_repeated_epoch_never_moves_the_clock_back()
    {
        var clock = new EpochClock(TimeSpan.FromSeconds(10));
        Assert.False(clock.Known);
        clock.Advance(E(2, 20, 1));
        clock.Advance(E(1, 10, 2));
        Assert.True(clock.Known);
        Assert.Equal(2, clock.Latest.N);
        Assert.Equal(20, clock.Latest["s"]);
    }

    [Fact]
    public void an_epoch_stays_readable_for_the_history_after_its_successor_was_committed()
    {
        var clock = new EpochClock(TimeSpan.FromSeconds(10));
        clock.Advance(E(1, 10, 0));
        clock.Advance(E(2, 20, 5));
        clock.Advance(E(3, 30, 14));
        Assert.NotNull(clock.Find(1));
        Assert.Equal(20, clock.Find(2)!["s"]);

        clock.Advance(E(4, 40, 16));
        Assert.Null(clock.Find(1));
        Assert.NotNull(clock.Find(2));
        Assert.Equal(2, clock.Horizon.N);
        Assert.Null(clock.Find(5));
    }

    [Fact]
    public async Task waiting_for_a_position_completes_with_the_first_epoch_that_covers_it()
    {
        var clock = new EpochClock(TimeSpan.FromSeconds(10));
        clock.Advance(E(1, 10, 0));
        Assert.Equal(1, (await clock.WaitAsync(e => e.Covers("s", 5), TimeSpan.FromSeconds(1), CancellationToken.None)).N);

        var waiting = clock.WaitAsync(e => e.Covers("s", 25), TimeSpan.FromSeconds(10), CancellationToken.None);
        clock.Advance(E(2, 20, 1));
        Assert.False(waiting.IsCompleted);
        clock.Advance(E(3, 30, 2));
        Assert.Equal(3, (await waiting).N);

        await Assert.ThrowsAsync<TimeoutException>(() => clock.WaitAsync(e => e.Covers("s", 99), TimeSpan.FromMilliseconds(50), CancellationToken.None));
    }
}
