// The journal rows and snapshots of view keys and vector partitions are stored: their JSON and manifests
// must read back what older nodes wrote. These golden strings were written by the actors before their
// shared multi-version state moved into MultiVersionActor; a change to them orphans existing journals.
using System.Text;
using System.Text.Json;
using Akka.Actor;
using ContextLake.Platform.Events;
using ContextLake.Views.Actors;
using ContextLake.Views.Algebra;
using ContextLake.Views.Projection;
using ContextLake.Views.Serialization;
using ContextLake.Views.Vectors;
using Xunit;

namespace ContextLake.Views.Tests.Actors;

public sealed class MultiVersionWireFormatSpecs : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly KeyDeltas Deltas = new("orders", 7, [new ViewDelta(1, At, new EventVersion(At.UtcTicks, "orders", 7), [JsonSerializer.SerializeToElement(12.5m)])]);
    private static readonly VectorRow Row = new(new EventVersion(At.UtcTicks, "docs", 3), [0.6f, 0.8f], new Dictionary<string, JsonElement> { ["title"] = JsonSerializer.SerializeToElement("a") });
    private static readonly VectorChange Change = new("docs", 3, "d1", null, Row);

    private readonly ActorSystem _system = ActorSystem.Create("wire");
    private readonly ViewsSerializer _serializer;

    public MultiVersionWireFormatSpecs() => _serializer = new ViewsSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    [Fact]
    public void a_view_key_journal_row_keeps_its_manifest_and_json() =>
        Same(new ViewDeltaBatch([Deltas]), "vb",
            """{"batch":[{"stream":"orders","offset":7,"deltas":[{"weight":1,"eventTime":"2026-01-02T03:04:05+00:00","rowVersion":{"timeTicks":639029198450000000,"stream":"orders","offset":7},"arguments":[12.5]}]}]}""");

    [Fact]
    public void a_view_key_snapshot_keeps_its_manifest_and_json() =>
        Same(new ViewKeySnapshot(new GroupAggregateSnapshot(0, At, []), new Dictionary<string, long> { ["orders"] = 6 }, [Deltas]), "vs",
            """{"base":{"lateEvents":0,"maxEventTime":"2026-01-02T03:04:05+00:00","panes":[]},"baseVector":{"orders":6},"pending":[{"stream":"orders","offset":7,"deltas":[{"weight":1,"eventTime":"2026-01-02T03:04:05+00:00","rowVersion":{"timeTicks":639029198450000000,"stream":"orders","offset":7},"arguments":[12.5]}]}]}""");

    [Fact]
    public void a_vector_partition_journal_row_keeps_its_manifest_and_json() =>
        Same(new VectorChangeBatch([Change]), "xb",
            """{"batch":[{"stream":"docs","offset":3,"entityId":"d1","after":{"version":{"timeTicks":639029198450000000,"stream":"docs","offset":3},"vector":[0.6,0.8],"fields":{"title":"a"}}}]}""");

    [Fact]
    public void a_vector_partition_snapshot_keeps_its_manifest_and_json() =>
        Same(new VectorPartitionSnapshot([new VectorEntitySnapshot("d0", [new WeightedRow(Row, 1)])], new Dictionary<string, long> { ["docs"] = 2 }, [Change]), "xS",
            """{"entities":[{"id":"d0","rows":[{"row":{"version":{"timeTicks":639029198450000000,"stream":"docs","offset":3},"vector":[0.6,0.8],"fields":{"title":"a"}},"weight":1}]}],"baseVector":{"docs":2},"pending":[{"stream":"docs","offset":3,"entityId":"d1","after":{"version":{"timeTicks":639029198450000000,"stream":"docs","offset":3},"vector":[0.6,0.8],"fields":{"title":"a"}}}]}""");

    private void Same(object record, string manifest, string json)
    {
        Assert.Equal(manifest, _serializer.Manifest(record));
        var bytes = _serializer.ToBinary(record);
        Assert.Equal(json, Encoding.UTF8.GetString(bytes));
        Assert.Equal(json, Encoding.UTF8.GetString(_serializer.ToBinary(_serializer.FromBinary(bytes, manifest))));
    }
}
