// The coordinator publishes (n, V) when watermarks move, n grows by one per publication, V never moves
// backward (a stale watermark is ignored), numbering continues after a restart, and epochs go on after the
// journal failed one of the coordinator's writes.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Platform.Tests.Epochs;

public abstract class EpochCoordinatorSpec(JournalProvider provider) : JournalLifetime(provider)
{
    private NodeOptions Options => new() { Journal = Journal.Options };

    private static Task<Epoch> Await(TestHost host, Func<Epoch, bool> until) =>
        host.Clock.WaitAsync(until, TimeSpan.FromSeconds(20), CancellationToken.None);

    [Fact]
    public async Task epochs_advance_with_watermarks_never_go_backward_and_continue_after_a_restart()
    {
        Epoch last;
        await using (var host = await TestHost.StartAsync(Options))
        {
            var coordinator = host.Get<EpochCoordinatorKey>();
            coordinator.Tell(new ReportWatermark("s1", 5, 5));
            var first = await Await(host, e => e["s1"] == 5);
            coordinator.Tell(new ReportWatermark("s2", 3, 7));
            coordinator.Tell(new ReportWatermark("s1", 2, 2));
            last = await Await(host, e => e["s2"] == 3);
            Assert.True(last.N > first.N);
            Assert.Equal(5, last["s1"]);

            var positions = await coordinator.Ask<StreamPositions>(GetStreamPositions.Instance, TimeSpan.FromSeconds(5));
            Assert.Equal(7, positions.Read["s2"]);
        }

        await using (var host = await TestHost.StartAsync(Options))
        {
            var resumed = await Await(host, e => e.N >= last.N);
            Assert.Equal(last.N, resumed.N);
            Assert.Equal(5, resumed["s1"]);
            Assert.Equal(3, resumed["s2"]);

            host.Get<EpochCoordinatorKey>().Tell(new ReportWatermark("s1", 6, 6));
            var next = await Await(host, e => e["s1"] == 6);
            Assert.Equal(last.N + 1, next.N);
        }
    }
}

public sealed class EpochLagSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    [Fact]
    public async Task a_stream_read_past_its_committed_offset_is_lagging_since_then_until_an_epoch_commits_it()
    {
        await using var host = await TestHost.StartAsync(new NodeOptions { Journal = Journal.Options });
        var coordinator = host.Get<EpochCoordinatorKey>();
        var before = DateTimeOffset.UtcNow;
        coordinator.Tell(new ReportWatermark("s", 2, 9));
        await host.Clock.WaitAsync(e => e["s"] == 2, TimeSpan.FromSeconds(20), CancellationToken.None);

        var lagging = await coordinator.Ask<StreamPositions>(GetStreamPositions.Instance, TimeSpan.FromSeconds(5));
        Assert.True(lagging.LaggingSince["s"] >= before);

        coordinator.Tell(new ReportWatermark("s", 9, 9));
        await host.Clock.WaitAsync(e => e["s"] == 9, TimeSpan.FromSeconds(20), CancellationToken.None);
        var caughtUp = await coordinator.Ask<StreamPositions>(GetStreamPositions.Instance, TimeSpan.FromSeconds(5));
        Assert.False(caughtUp.LaggingSince.ContainsKey("s"));
    }
}

public sealed class SqliteEpochCoordinatorSpec() : EpochCoordinatorSpec(JournalProvider.Sqlite);

public sealed class PostgreSqlEpochCoordinatorSpec() : EpochCoordinatorSpec(JournalProvider.PostgreSql);

/// <summary>
/// A journal that stops answering for longer than its circuit breaker's call timeout (here another connection holds SQLite's
/// write lock) makes the epoch coordinator's write fail, and Akka.Persistence stops it; epochs must go on once the journal is
/// back, for a stream that has gone quiet too: the coordinator is started again and learns the stream's watermark anew.
/// </summary>
public sealed class EpochsAfterJournalOutageSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    [Fact]
    public async Task a_coordinator_write_that_times_out_does_not_stop_the_epochs_of_a_stream_gone_quiet()
    {
        var options = new NodeOptions { Journal = Journal.Options, State = new StateOptions { RetryAfter = TimeSpan.FromSeconds(1) } };
        await using var host = await TestHost.StartAsync(options, (akka, _, _) =>
            akka.AddHocon("akka.persistence.journal.sql.circuit-breaker.call-timeout = 2s", HoconAddMode.Prepend));
        var runs = PlatformHosting.StreamRuns(host.Registry, options);
        await runs.ApplyAsync("s", [], upTo: 1, read: 1);
        await host.Clock.WaitAsync(e => e["s"] == 1, TimeSpan.FromSeconds(20), CancellationToken.None);

        var journal = new ContextLake.Platform.Journal.JournalDatabase(options.Journal);
        await using (var locker = journal.CreateConnection())
        {
            await locker.OpenAsync();
            await using (var begin = locker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }
            // The run is applied (it has no events), so its watermark goes to the coordinator, whose write of the epoch
            // waits on the lock past the call timeout and fails.
            await runs.ApplyAsync("s", [], upTo: 2, read: 2);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Equal(1, host.Clock.Latest["s"]);
            await using var rollback = locker.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        // Nothing more is written to "s": the epoch that commits offset 2 comes from the coordinator started again.
        var committed = await host.Clock.WaitAsync(e => e["s"] == 2, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(2, committed["s"]);
    }
}
