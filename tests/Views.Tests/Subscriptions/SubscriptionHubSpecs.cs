// The subscription hub on its own, fed in the orders a cluster can deliver: an epoch that overtakes its
// change notices waits for them, a run that changed no key still moves its stream on, a redelivered
// offset is not a change again, resume points are checked against what the hub can replay, and a
// subscriber that stops taking epochs is cut off at the lag bound.
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Subscriptions;
using Xunit;

namespace ContextLake.Views.Tests.Subscriptions;

public sealed class SubscriptionHubSpecs
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private static Epoch E(long n, params (string Stream, long Offset)[] vector) =>
        new(n, vector.ToDictionary(v => v.Stream, v => v.Offset), T0.AddMilliseconds(n));

    private static ViewChangeNotice Notice(string stream, long upTo, params (string Key, long Offset)[] keys) =>
        new(stream, upTo, keys.Select(k => new ChangedViewKey("v", 1, k.Key, [k.Offset])).ToList());

    private static (SubscriptionHub Hub, EpochClock Clock) Started(int maxLag = 1000)
    {
        var clock = new EpochClock(TimeSpan.FromMinutes(1));
        var hub = new SubscriptionHub(clock, new SubscriptionOptions { MaxLagEpochs = maxLag });
        var start = E(1, ("a", 10));
        clock.Advance(start);
        hub.Committed(start);
        return (hub, clock);
    }

    private static IReadOnlyList<EpochChanges> From(SubscriptionHub hub, long after)
    {
        var (subscriber, _, refusal) = hub.Subscribe(after);
        Assert.Equal(ResumeRefusal.None, refusal);
        var (next, _) = hub.After(subscriber!, 100);
        hub.Unsubscribe(subscriber!);
        return next;
    }

    [Fact]
    public void an_epoch_that_overtakes_its_notices_waits_for_them()
    {
        var (hub, clock) = Started();
        var e2 = E(2, ("a", 12), ("b", 3));
        clock.Advance(e2);
        hub.Committed(e2);
        Assert.Equal(1, hub.Last!.N);

        hub.Notice(Notice("a", 12, ("k1", 11), ("k2", 12)));
        Assert.Equal(1, hub.Last!.N);
        // Stream b's run changed no key of any view: its notice still says how far b has gone.
        hub.Notice(Notice("b", 3));
        Assert.Equal(2, hub.Last!.N);

        var changes = Assert.Single(From(hub, 1));
        Assert.Equal(1, changes.Before.N);
        Assert.Equal(["k1", "k2"], changes.Views["v"].Keys);
    }

    [Fact]
    public void a_change_goes_to_the_epoch_that_commits_its_offset_and_a_redelivery_is_not_a_change_again()
    {
        var (hub, clock) = Started();
        hub.Notice(Notice("a", 13, ("k1", 11), ("k3", 13)));
        var e2 = E(2, ("a", 11));
        var e3 = E(3, ("a", 13));
        foreach (var e in new[] { e2, e3 })
        {
            clock.Advance(e);
            hub.Committed(e);
        }
        hub.Notice(Notice("a", 11, ("k1", 11)));
        var e4 = E(4, ("a", 14));
        clock.Advance(e4);
        hub.Committed(e4);
        hub.Notice(Notice("a", 14, ("k4", 14)));

        var log = From(hub, 1);
        Assert.Equal([2L, 3, 4], log.Select(c => c.N));
        Assert.Equal(["k1"], log[0].Views["v"].Keys);
        Assert.Equal(["k3"], log[1].Views["v"].Keys);
        Assert.Equal(["k4"], log[2].Views["v"].Keys);
    }

    [Fact]
    public void resume_points_before_the_hub_started_or_after_the_latest_epoch_are_refused()
    {
        var (hub, _) = Started();
        Assert.Equal(ResumeRefusal.Gone, hub.Subscribe(0).Refusal);
        Assert.Equal(ResumeRefusal.Newer, hub.Subscribe(7).Refusal);
        Assert.Equal(ResumeRefusal.None, hub.Subscribe(1).Refusal);
    }

    [Fact]
    public void a_subscriber_that_stops_taking_epochs_is_cut_off_at_the_lag_bound()
    {
        var (hub, clock) = Started(maxLag: 3);
        var (subscriber, _, _) = hub.Subscribe(null);
        // Three epochs behind is within the bound; the fourth is one too many.
        for (var n = 2; n <= 4; n++)
        {
            var e = E(n, ("a", 10 + n));
            clock.Advance(e);
            hub.Committed(e);
            hub.Notice(Notice("a", 10 + n, ("k", 10 + n)));
            Assert.Null(subscriber!.CutOffReason);
        }
        var e5 = E(5, ("a", 15));
        clock.Advance(e5);
        hub.Committed(e5);
        hub.Notice(Notice("a", 15, ("k", 15)));
        Assert.Contains("the client read too slowly", subscriber!.CutOffReason);
        Assert.True(subscriber.Ended.IsCompleted);
        Assert.Empty(hub.After(subscriber, 100).Next);
    }
}
