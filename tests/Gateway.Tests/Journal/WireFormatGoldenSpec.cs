// The journal is kept for ever, so what is written in it must be read the same way by every later build. Each journal
// and snapshot manifest has a golden row here, taken from a real node's journal.db and snapshots.db (one of each kind:
// views created, dropped and backfilled, schemas declared and deleted, entity, view and vector rows and snapshots,
// epochs, write-log batches and snapshot, connectors created, paused, resumed and deleted): today's serializer must read it and write back exactly
// the same bytes. A renamed or retyped field reads as a default and writes differently, and fails here. Changing the
// format on purpose means reading the old rows too, and adding their new golden beside them: a format no longer
// written keeps its golden row, which must still read.
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using ContextLake.Platform.Hosting;
using Xunit;

namespace ContextLake.Gateway.Tests.Journal;

public sealed class WireFormatGoldenSpec : IDisposable
{
    private sealed record Golden(string Store, string Manifest, int Serializer, string Payload);

    /// <summary>Every manifest the node journals or snapshots; a new one needs a golden row.</summary>
    private static readonly string[] Persisted = ["cC", "cD", "cP", "cR", "cS", "cU", "er", "kC", "kD", "kP", "kS", "pr", "vr", "wb", "xr", "eK", "vs", "ws", "xS"];

    /// <summary>Manifests earlier builds wrote and this one only reads: entity snapshots before their keys were binary (eS).</summary>
    private static readonly string[] ReadOnly = ["eS"];

    private readonly ActorSystem _system = ActorSystem.Create("golden", EmbeddedHocon.Load(typeof(ContextLake.Views.Hosting.ViewsHosting).Assembly, "ContextLake.Views.views.conf")
        .WithFallback(EmbeddedHocon.Load(typeof(ContextLake.Connectors.Http.HttpWriteLog).Assembly, "ContextLake.Connectors.connectors.conf"))
        .WithFallback(PlatformHosting.DefaultConfig)
        .WithFallback(ConfigurationFactory.Default()));

    private static IReadOnlyList<Golden> Goldens() =>
        JsonSerializer.Deserialize<List<Golden>>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Journal", "wire-format-golden.json")),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    public static TheoryData<string> Manifests() => new(Persisted);

    public static TheoryData<string> ReadOnlyManifests() => new(ReadOnly);

    [Theory]
    [MemberData(nameof(Manifests))]
    public void a_golden_row_reads_and_writes_back_byte_for_byte(string manifest)
    {
        var golden = Assert.Single(Goldens(), g => g.Manifest == manifest);
        var bytes = Encoding.UTF8.GetBytes(golden.Payload);
        var message = _system.Serialization.Deserialize(bytes, golden.Serializer, manifest);

        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.Equal(golden.Serializer, serializer.Identifier);
        Assert.Equal(manifest, Akka.Serialization.Serialization.ManifestFor(serializer, message));
        Assert.Equal(golden.Payload, Encoding.UTF8.GetString(serializer.ToBinary(message)));
    }

    [Theory]
    [MemberData(nameof(ReadOnlyManifests))]
    public void a_golden_row_of_a_format_no_longer_written_still_reads(string manifest)
    {
        var golden = Assert.Single(Goldens(), g => g.Manifest == manifest);
        var message = _system.Serialization.Deserialize(Encoding.UTF8.GetBytes(golden.Payload), golden.Serializer, manifest);
        Assert.Equal(manifest, Akka.Serialization.Serialization.ManifestFor(_system.Serialization.FindSerializerFor(message), message));
    }

    [Fact]
    public void every_golden_row_is_of_a_persisted_or_read_only_manifest() =>
        Assert.Equal(Persisted.Concat(ReadOnly).Order(), Goldens().Select(g => g.Manifest).Order());

    public void Dispose() => _system.Dispose();
}
