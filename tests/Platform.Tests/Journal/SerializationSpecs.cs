// Events and snapshots go through ContextLake's own serializer (manifest per type), never Akka's default.
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Serialization;
using Xunit;

namespace ContextLake.Platform.Tests.Journal;

public sealed class SerializationSpecs : Akka.TestKit.Xunit2.TestKit
{
    public SerializationSpecs() : base(PlatformHosting.DefaultConfig.WithFallback(ConfigurationFactory.Default())) { }

    private static readonly IngestEvent Event = new("http:writes", 42, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero),
        "account", "a1", EventKind.Upsert, JsonDocument.Parse("""{"balance": 12.5, "tags": ["x"]}""").RootElement);

    public static TheoryData<object, string> Messages() => new()
    {
        { Event, "ev" },
        { new EntityState().ToSnapshot(), "es" },
        { new ApplyEvents(new EntityKey("account", "a1"), [Event]), "ea" },
        { new EventsApplied(new EntityKey("account", "a1"), 1, 0, [new RowChange("http:writes", 42, "account", "a1", null,
            new EntityRow(EventKind.Upsert, new Dictionary<string, JsonElement> { ["balance"] = Event.Data.GetProperty("balance") }, Event.EventTime, Event.Version))]), "eA" },
        { new GetEntity(new EntityKey("account", "a1")), "eg" },
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
    public void an_unknown_manifest_is_an_error_that_names_it()
    {
        var serializer = (PlatformSerializer)Sys.Serialization.FindSerializerForType(typeof(IngestEvent));
        var ex = Assert.ThrowsAny<Exception>(() => serializer.FromBinary([], "zz"));
        Assert.Contains("'zz'", ex.Message);
    }
}
