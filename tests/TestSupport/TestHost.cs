// The node's actor system exactly as production wires it (Akka.Hosting, cluster of one, sharding,
// SQL journal), without the HTTP layer: for tests that restart the system against the same journal.
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Platform.Epochs;
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

    public static async Task<TestHost> StartAsync(NodeOptions options, Action<AkkaConfigurationBuilder, EpochClock>? more = null)
    {
        var journal = new JournalDatabase(options.Journal);
        journal.Prepare();
        var clock = new EpochClock(options.Epochs.History);
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka(options.Cluster.SystemName, akka =>
            {
                akka.WithContextLakePlatform(options, journal, clock);
                more?.Invoke(akka, clock);
            }))
            .Build();
        await host.StartAsync();
        var test = new TestHost(host) { Clock = clock };
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
