// The one acceptance rule of every chain between actors: a link that follows what the receiver has is
// taken, one it has already is a duplicate, one after a lost link is refused (the sender sends the
// chain again in order), and a sender that started again may start at the committed epoch.
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.State;

public sealed class ChainSpecs
{
    private sealed record Link(long Prev, long Through) : IChained
    {
        public string Channel => "s";
    }

    [Theory]
    [InlineData(0, 100, 0, 0, ChainVerdict.Fresh)]
    [InlineData(100, 200, 100, 0, ChainVerdict.Fresh)]
    [InlineData(50, 200, 100, 0, ChainVerdict.Fresh)]
    [InlineData(0, 100, 100, 0, ChainVerdict.Duplicate)]
    [InlineData(100, 200, 250, 0, ChainVerdict.Duplicate)]
    [InlineData(200, 300, 100, 0, ChainVerdict.Gap)]
    [InlineData(200, 300, 100, 200, ChainVerdict.Fresh)]
    [InlineData(200, 300, 100, 150, ChainVerdict.Gap)]
    public void a_link_is_judged_by_what_the_receiver_has_and_what_the_epoch_commits(long prev, long through, long have, long committed, ChainVerdict verdict) =>
        Assert.Equal(verdict, Chains.Judge(new Link(prev, through), have, committed));
}
