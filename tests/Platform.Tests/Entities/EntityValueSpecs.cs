// What an entity's value promises: per-field last-writer-wins by (eventTime, stream, offset), delete
// tombstones, history counts, the highest offset per stream, the same value for any order of the same
// events, a value that never changes once made (versions are shared with readers), and a snapshot round trip
// (today's binary keys, and the first format's JSON, which a restore still reads).
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.Entities;

public sealed class EntityValueSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    internal static IngestEvent Ev(long offset, int second, EventKind kind, string json = "{}", string stream = "http:writes") =>
        new(stream, offset, T0.AddSeconds(second), "account", "a1", kind, JsonDocument.Parse(json).RootElement.Clone());

    [Fact]
    public void a_later_upsert_wins_per_field_and_keeps_untouched_fields()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(1, 1, EventKind.Upsert, """{"balance": 5, "owner": "ann"}"""), out _);
        s = EntityValue.Apply(s, Ev(2, 2, EventKind.Upsert, """{"balance": 7}"""), out _);

        Assert.True(s!.Exists);
        Assert.Equal(7, s!.Fields()["balance"].GetInt32());
        Assert.Equal("ann", s!.Fields()["owner"].GetString());
    }

    [Fact]
    public void an_upsert_with_an_older_event_time_loses_even_when_it_arrives_last()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(2, 10, EventKind.Upsert, """{"balance": 7}"""), out _);
        s = EntityValue.Apply(s, Ev(3, 5, EventKind.Upsert, """{"balance": 1}"""), out _);
        Assert.Equal(7, s!.Fields()["balance"].GetInt32());
    }

    [Fact]
    public void equal_event_times_are_ordered_by_stream_then_offset()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(9, 1, EventKind.Upsert, """{"v": "b"}""", stream: "b"), out _);
        s = EntityValue.Apply(s, Ev(1, 1, EventKind.Upsert, """{"v": "a"}""", stream: "a"), out _);
        Assert.Equal("b", s!.Fields()["v"].GetString());
    }

    [Fact]
    public void a_delete_tombstones_older_fields_and_a_newer_upsert_revives_the_entity()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(1, 1, EventKind.Upsert, """{"balance": 5}"""), out _);
        s = EntityValue.Apply(s, Ev(2, 2, EventKind.Delete), out _);
        Assert.False(s!.Exists);
        Assert.Empty(s!.Fields());

        s = EntityValue.Apply(s, Ev(3, 1, EventKind.Upsert, """{"balance": 9}"""), out _);
        Assert.False(s!.Exists);

        s = EntityValue.Apply(s, Ev(4, 3, EventKind.Upsert, """{"owner": "bob"}"""), out _);
        Assert.True(s!.Exists);
        Assert.Equal(["owner"], s!.Fields().Keys);
    }

    [Fact]
    public void events_are_counted_and_the_latest_by_version_is_kept()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(1, 5, EventKind.Event, """{"amount": 1}"""), out _);
        s = EntityValue.Apply(s, Ev(2, 9, EventKind.Event, """{"amount": 2}"""), out _);
        s = EntityValue.Apply(s, Ev(3, 7, EventKind.Event, """{"amount": 3}"""), out _);
        Assert.Equal(3, s!.EventCount);
        Assert.Equal(2, s.LastEvent!.Offset);
        Assert.True(s!.Exists);
    }

    [Fact]
    public void the_highest_offset_applied_is_kept_per_stream()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(5, 1, EventKind.Event), out _);
        s = EntityValue.Apply(s, Ev(3, 1, EventKind.Event), out _);
        Assert.Equal(5, s!.AppliedOffset("http:writes"));
        Assert.Equal(0, s.AppliedOffset("kafka:tx/0"));
    }

    [Fact]
    public void any_order_of_the_same_events_gives_the_same_state()
    {
        var random = new Random(20261124);
        var events = Enumerable.Range(1, 40).Select(i =>
        {
            var kind = (EventKind)random.Next(3);
            var json = $$"""{"f{{random.Next(4)}}": {{random.Next(100)}}, "g": {{i}}}""";
            return Ev(i, random.Next(20), kind, json, stream: random.Next(2) == 0 ? "s1" : "s2");
        }).ToList();

        var reference = Render(events);
        for (var trial = 0; trial < 200; trial++)
            Assert.Equal(reference, Render(events.OrderBy(_ => random.Next()).ToList()));
    }

    private static EntityValue Mixed()
    {
        EntityValue? s = null;
        s = EntityValue.Apply(s, Ev(1, 1, EventKind.Upsert, """{"balance": 5, "owner": "ann"}"""), out _);
        s = EntityValue.Apply(s, Ev(4, 3, EventKind.Upsert, """{"balance": 6}""", stream: "kafka:t/0"), out _);
        s = EntityValue.Apply(s, Ev(2, 2, EventKind.Event, """{"amount": 3}"""), out _);
        return EntityValue.Apply(s, Ev(3, 0, EventKind.Delete), out _);
    }

    [Fact]
    public void a_partitions_keys_written_for_a_snapshot_read_back_the_same()
    {
        var s = Mixed();
        var store = new VersionedStore<EntityValue, IngestEvent>(EntityValue.ApplyAll, keepsCurrent: true);
        store.Clear(4);
        store.Restore("account/a1", s, []);
        var pending = Ev(9, 9, EventKind.Upsert, """{"owner": "bob"}""");
        store.Put("account/a2", EntityValue.Apply(null, pending, out _), pending);

        var restored = new VersionedStore<EntityValue, IngestEvent>(EntityValue.ApplyAll, keepsCurrent: true);
        restored.Clear(4);
        EntityKeys.Read(EntityKeys.Write(store), restored);

        Assert.NotNull(s.Versions);
        Assert.Equal(Render(s), Render(restored.Current("account/a1")!));
        Assert.Equal(s.LastEventData().GetRawText(), restored.Current("account/a1")!.LastEventData().GetRawText());
        // Committed entities only: an entity with nothing but a pending event is for the journal's replay to bring back.
        Assert.Equal(1, restored.Count);
        Assert.Same(s.Streams, restored.Current("account/a1")!.Streams);
        Assert.Same(s.Names, restored.Current("account/a1")!.Names);
    }

    [Fact]
    public void a_value_of_the_first_snapshot_format_reads_as_the_same_value()
    {
        // {"n","v","e","fv","t","u","c","l","a"}, as builds before the binary keys wrote it.
        var json = """
            {"n":["balance","owner"],"v":"NiJhbm4i","e":[1,6],"fv":[[639311112030000000,"kafka:t/0",4],[639311112010000000,"http:writes",1]],
             "t":[639311112000000000,"http:writes",3],"u":[639311112030000000,"kafka:t/0",4],"c":1,
             "l":{"s":"http:writes","o":2,"t":639311112020000000,"d":"eyJhbW91bnQiOiAzfQ=="},"a":[{"s":"http:writes","o":3},{"s":"kafka:t/0","o":4}]}
            """;
        var read = JsonSerializer.Deserialize<EntityValue>(json, new JsonSerializerOptions { Converters = { new EntityValueV1JsonConverter() } })!;
        Assert.Equal(Render(Mixed()), Render(read));
    }

    [Fact]
    public void a_stored_value_whose_parts_disagree_is_refused()
    {
        var options = new JsonSerializerOptions { Converters = { new EntityValueV1JsonConverter() } };
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<EntityValue>("""{"n":["a","b"],"v":"","e":[1],"c":0,"a":[]}""", options));
        Assert.Contains("2 field names", error.Message);
        var s = Mixed();
        var broken = Assert.Throws<FormatException>(() => EntityValue.FromParts(s.Names, s.Streams, s.Data[..^1]));
        Assert.Contains("bytes", broken.Message);
    }

    private static string Render(IReadOnlyList<IngestEvent> events)
    {
        EntityValue? s = null;
        foreach (var e in events) s = EntityValue.Apply(s, e, out _);
        return Render(s!);
    }

    internal static string Render(EntityValue s) =>
        $"exists={s.Exists} count={s.EventCount} last={s.LastEvent?.Offset} tomb={s.Tombstone} " +
        string.Join(",", Enumerable.Range(0, s.FieldCount).Select(i => $"{s.Names[i]}={System.Text.Encoding.UTF8.GetString(s.RawValue(i))}@{s.VersionOf(i)}")) +
        " offsets=" + string.Join(",", s.Applied.Select(o => $"{o.Stream}:{o.Offset}"));

    [Fact]
    public void applying_an_event_leaves_the_value_it_was_applied_to_as_it_was()
    {
        var v1 = EntityValue.Apply(null, Ev(1, 1, EventKind.Upsert, """{"balance": 5, "owner": "ann"}"""), out _);
        var before = Render(v1);
        var v2 = EntityValue.Apply(v1, Ev(2, 2, EventKind.Upsert, """{"balance": 7}"""), out var changed);
        EntityValue.Apply(v2, Ev(3, 3, EventKind.Delete), out _);
        Assert.True(changed);
        Assert.Equal(before, Render(v1));
        Assert.Equal(7, v2.Fields()["balance"].GetInt32());
    }

    [Fact]
    public void entities_with_the_same_fields_share_one_array_of_names()
    {
        var a = EntityValue.Apply(null, Ev(1, 1, EventKind.Upsert, """{"owner": "ann", "balance": 5}"""), out _);
        var b = EntityValue.Apply(null, Ev(2, 1, EventKind.Upsert, """{"balance": 9, "owner": "bob"}"""), out _);
        Assert.Same(a.Names, b.Names);
        Assert.Null(a.Versions);
    }
}
