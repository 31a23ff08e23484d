// A key delta survives its compact row form exactly: an added row's own version is left out and restored,
// a retracted row's version (an older event's) is written and read back, arguments keep their JSON.
using System.Text;
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Partitions;
using Xunit;

namespace ContextLake.Views.Tests.Partitions;

public sealed class KeyDeltaJsonSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static ValueKey[] Args(params string?[] json) =>
        json.Select(j => j is null ? ValueKey.Null : ValueKey.From(JsonDocument.Parse(j).RootElement.Clone())).ToArray();

    private static (KeyDelta Back, string Json) RoundTrip(KeyDelta delta)
    {
        var json = JsonSerializer.Serialize(delta);
        return (JsonSerializer.Deserialize<KeyDelta>(json)!, json);
    }

    [Fact]
    public void An_added_row_is_written_without_its_version_and_read_back_with_it()
    {
        var own = new EventVersion(Now.UtcTicks, "http:writes", 42);
        var delta = new KeyDelta("credits", 3, "a7", "http:writes", 42, [new ViewDelta(1, Now, own, Args("12.5", null))]);

        var (back, json) = RoundTrip(delta);

        Assert.DoesNotContain("\"r\"", json);
        Assert.Equal(("credits", 3L, "a7", "http:writes", 42L), (back.View, back.Incarnation, back.Key, back.Stream, back.Offset));
        var d = Assert.Single(back.Deltas);
        Assert.Equal((1, Now, own), (d.Weight, d.EventTime, d.RowVersion));
        Assert.Equal((ValueRank.Number, 12.5m), (d.Arguments[0].Rank, d.Arguments[0].Number));
        Assert.True(d.Arguments[1].IsNull);
    }

    [Fact]
    public void A_retracted_row_keeps_the_version_of_the_event_that_wrote_it()
    {
        var older = new EventVersion(Now.AddMinutes(-5).UtcTicks, "kafka:payments/0", 7);
        var own = new EventVersion(Now.UtcTicks, "http:writes", 43);
        var delta = new KeyDelta("last_owner", 1, "acct \"x\"", "http:writes", 43,
            [new ViewDelta(-1, Now.AddMinutes(-5), older, Args("\"ann\"")), new ViewDelta(1, Now, own, Args("{\"a\":[1,2]}"))]);

        var (back, json) = RoundTrip(delta);

        Assert.Contains("\"r\":[", json);
        Assert.Equal("acct \"x\"", back.Key);
        Assert.Equal([older, own], back.Deltas.Select(d => d.RowVersion));
        Assert.Equal([-1, 1], back.Deltas.Select(d => d.Weight));
        Assert.Equal((ValueRank.String, "ann"), (back.Deltas[0].Arguments[0].Rank, back.Deltas[0].Arguments[0].Text));
        Assert.Equal((ValueRank.Other, "{\"a\":[1,2]}"), (back.Deltas[1].Arguments[0].Rank, back.Deltas[1].Arguments[0].Text));
    }

    [Fact]
    public void A_delta_without_its_key_is_refused_naming_what_is_missing()
    {
        var error = Assert.Throws<JsonException>(() =>
            JsonSerializer.Deserialize<KeyDelta>(Encoding.UTF8.GetBytes("{\"v\":\"credits\",\"i\":1,\"s\":\"http:writes\",\"o\":1,\"d\":[]}")));
        Assert.Contains("\"k\"", error.Message);
    }
}
