// The node's actor system exactly as production wires it (Akka.Hosting, cluster of one, sharding,
// SQL journal), without the HTTP layer: for tests that restart the system against the same journal.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Ingest;
using ContextLake.Platform.State;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ContextLake.Testing;

public sealed class TestHost : IAsyncDisposable
{
    private readonly IHost _host;

    private TestHost(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        Registry = host.Services.GetRequiredService<ActorRegistry>();
    }

    public ActorSystem System { get; }
    public ActorRegistry Registry { get; }

    public EpochClock Clock { get; private set; } = null!;

    public LocalPartitions Local { get; private set; } = null!;

    /// <summary>
    /// Starts the platform (with <paramref name="projections"/> and <paramref name="observer"/> from the Views project, when a
    /// test wires them with <paramref name="more"/>; none otherwise).
    /// </summary>
    public static async Task<TestHost> StartAsync(NodeOptions options, Action<AkkaConfigurationBuilder, EpochClock, LocalPartitions>? more = null,
        IProjections? projections = null, IRunObserver? observer = null)
    {
        var journal = new JournalDatabase(options.Journal);
        journal.Prepare();
        if (await PartitionLayout.VerifyAsync(journal, options.State) is { } problem) throw new InvalidOperationException(problem);
        var clock = new EpochClock(options.Epochs.History);
        var local = new LocalPartitions();
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka(options.Cluster.SystemName, akka =>
            {
                akka.WithContextLakePlatform(options, journal, clock, projections ?? NoProjections.Instance, observer ?? NoRunObserver.Instance, local);
                more?.Invoke(akka, clock, local);
            }))
            .Build();
        await host.StartAsync();
        var test = new TestHost(host) { Clock = clock, Local = local };
        var cluster = Akka.Cluster.Cluster.Get(test.System);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (cluster.SelfMember.Status != Akka.Cluster.MemberStatus.Up)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the test node's cluster did not come up");
            await Task.Delay(50);
        }
        return test;
    }

    public IActorRef Get<TKey>() => Registry.Get<TKey>();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
