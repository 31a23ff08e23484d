// Events and snapshots go through ContextLake's own serializer (manifest per type), never Akka's default.
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Serialization;
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.Journal;

public sealed class SerializationSpecs : Akka.TestKit.Xunit2.TestKit
{
    public SerializationSpecs() : base(PlatformHosting.DefaultConfig.WithFallback(ConfigurationFactory.Default())) { }

    private static readonly IngestEvent Event = new("http:writes", 42, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero),
        "account", "a1", EventKind.Upsert, JsonDocument.Parse("""{"balance": 12.5, "tags": ["x"]}""").RootElement);

    private static EntityValue Value => EntityValue.Apply(null, Event, out _);

    /// <summary>A partition's keys as its snapshot holds them: one committed entity.</summary>
    private static byte[] Keys()
    {
        var store = new VersionedStore<EntityValue, IngestEvent>(EntityValue.ApplyAll, keepsCurrent: true);
        store.Clear(17);
        store.Restore("account/a1", Value, []);
        return EntityKeys.Write(store);
    }

    public static TheoryData<object, string> Messages() => new()
    {
        { Event, "ev" },
        { new EntityRunRow([Event], [new RunPartMark("http:writes", 42, 1)], new ProjectionChange(3, [new ProjectionSpec("credits@1", "transfer", "CREATE VIEW …")], [])), "er" },
        { new EntityPartitionSnapshot(17, new Dictionary<string, long> { ["http:writes"] = 42 }, Keys(), new Dictionary<string, long> { ["http:writes"] = 42 }, [], 3), "eK" },
        { new RunPartApplied("http:writes", 3, 9, 1, 0, [new DownstreamMark("view", "7", 42)], ["credits@1/a1"], true), "eP" },
        { new ReadEntities("3", 17, [new EntityKey("account", "a1")]), "eq" },
        { new DownstreamApplied("http:writes", 3, "view", "7", 42), "sd" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void platform_messages_round_trip_through_the_platform_serializer(object message, string manifest)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<PlatformSerializer>(serializer);
        Assert.Equal(manifest, Akka.Serialization.Serialization.ManifestFor(serializer, message));

        var bytes = serializer.ToBinary(message);
        var back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        Assert.Equal(JsonSerializer.Serialize(message, message.GetType()), JsonSerializer.Serialize(back, back.GetType()));
    }

    [Fact]
    public void an_event_is_written_in_the_shape_users_query_with_their_own_sql()
    {
        var json = JsonDocument.Parse(JsonSerializer.Serialize(Event)).RootElement;
        Assert.Equal(["stream", "offset", "eventTime", "entityType", "entityId", "kind", "data"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-11-24T10:00:00+00:00", json.GetProperty("eventTime").GetString());
        Assert.Equal("Upsert", json.GetProperty("kind").GetString());
        Assert.Equal(12.5m, json.GetProperty("data").GetProperty("balance").GetDecimal());
    }

    [Fact]
    public void an_event_row_with_an_unknown_kind_is_refused_naming_it()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<IngestEvent>(
            """{"stream":"s","offset":1,"eventTime":"2026-11-24T10:00:00+00:00","entityType":"account","entityId":"a1","kind":"Merge","data":{}}"""));
        Assert.Contains("\"Merge\"", error.Message);
    }

    [Fact]
    public void an_unknown_manifest_is_an_error_that_names_it()
    {
        var serializer = (PlatformSerializer)Sys.Serialization.FindSerializerForType(typeof(IngestEvent));
        var ex = Assert.ThrowsAny<Exception>(() => serializer.FromBinary([], "zz"));
        Assert.Contains("'zz'", ex.Message);
    }
}
