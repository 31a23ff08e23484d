// The event serializer: an IngestEvent to and from its journal row payload (PlatformSerializer, source-generated
// System.Text.Json behind a short manifest), once per event journaled and once per event replayed.
using System.Text.Json;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using ContextLake.Platform.Events;
using ContextLake.Platform.Serialization;

namespace ContextLake.Benchmarks.Micro;

[MemoryDiagnoser]
public class EventSerializerBenchmarks
{
    private ActorSystem _system = null!;
    private PlatformSerializer _serializer = null!;
    private IngestEvent _event = null!;
    private byte[] _bytes = [];
    private string _manifest = "";

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("serializer-bench");
        _serializer = new PlatformSerializer((ExtendedActorSystem)_system);
        _event = new IngestEvent("kafka:bank/transfers/0", 123_456, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            "transfer", "t-123456", EventKind.Event,
            JsonSerializer.SerializeToElement(new { from_account = "a3", to_account = "a7", amount = 125 }));
        _bytes = _serializer.ToBinary(_event);
        _manifest = _serializer.Manifest(_event);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Benchmark(Description = "serialize an event")]
    public byte[] Serialize() => _serializer.ToBinary(_event);

    [Benchmark(Description = "deserialize an event")]
    public object Deserialize() => _serializer.FromBinary(_bytes, _manifest);
}
