// The node's budget of events in flight: runs are admitted while they fit, in arrival order; a run larger than
// the whole budget is admitted alone; a waiter that gives up leaves the queue and lets the one behind it in.
using ContextLake.Platform.Ingest;
using Xunit;

namespace ContextLake.Platform.Tests.Ingest;

public sealed class InFlightBudgetSpecs
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task runs_that_fit_are_admitted_and_the_next_waits_until_enough_is_given_back()
    {
        var budget = new InFlightBudget(100);
        await budget.TakeAsync(60).WaitAsync(Deadline);
        await budget.TakeAsync(40).WaitAsync(Deadline);
        var third = budget.TakeAsync(30);
        Assert.False(third.IsCompleted);
        budget.Give(20);
        Assert.False(third.IsCompleted);
        budget.Give(40);
        await third.WaitAsync(Deadline);
        Assert.Equal(70, budget.Used);
    }

    [Fact]
    public async Task waiters_are_admitted_in_arrival_order_even_when_a_later_one_would_fit()
    {
        var budget = new InFlightBudget(100);
        await budget.TakeAsync(90).WaitAsync(Deadline);
        var big = budget.TakeAsync(50);
        var small = budget.TakeAsync(5);
        Assert.False(small.IsCompleted); // it would fit, but the 50 came first
        budget.Give(90);
        await Task.WhenAll(big, small).WaitAsync(Deadline);
        Assert.Equal(55, budget.Used);
    }

    [Fact]
    public async Task a_run_larger_than_the_budget_is_admitted_alone()
    {
        var budget = new InFlightBudget(100);
        await budget.TakeAsync(250).WaitAsync(Deadline);
        var next = budget.TakeAsync(1);
        Assert.False(next.IsCompleted);
        budget.Give(250);
        await next.WaitAsync(Deadline);
        Assert.Equal(1, budget.Used);
    }

    [Fact]
    public async Task a_waiter_that_gives_up_leaves_the_queue_and_the_one_behind_it_goes_in()
    {
        var budget = new InFlightBudget(100);
        await budget.TakeAsync(80).WaitAsync(Deadline);
        using var cancel = new CancellationTokenSource();
        var quitter = budget.TakeAsync(50, cancel.Token);
        var patient = budget.TakeAsync(20);
        Assert.False(patient.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter);
        await patient.WaitAsync(Deadline);
        Assert.Equal(100, budget.Used);
    }
}
