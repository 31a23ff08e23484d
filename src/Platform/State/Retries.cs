// Ask with retries: for deliveries that must eventually happen, to receivers that drop what they have already.
using Akka.Actor;
using Akka.Event;

namespace ContextLake.Platform.State;

public static class Retries
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    public static async Task<T> AskAsync<T>(IActorRef target, object message, TimeSpan timeout, ILoggingAdapter log, string what, CancellationToken cancel)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await target.Ask<T>(message, timeout, cancel);
            }
            catch (Exception ex) when (ex is AskTimeoutException or TimeoutException && !cancel.IsCancellationRequested)
            {
                log.Warning("{0} did not confirm (attempt {1}); retrying in {2}", what, attempt, backoff);
                await Task.Delay(backoff, cancel);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
