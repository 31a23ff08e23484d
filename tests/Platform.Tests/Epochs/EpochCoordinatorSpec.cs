// The coordinator publishes (n, V) when watermarks move, n grows by one per publication, V never moves
// backward (a stale watermark is ignored), and numbering continues after a restart.
using Akka.Actor;
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
