// What entity state promises: per-field last-writer-wins by (eventTime, stream, offset), delete
// tombstones, history counts, redelivery recognised, and the same state for any order of the same events.
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using Xunit;

namespace ContextLake.Platform.Tests.Entities;

public sealed class EntityStateSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    internal static IngestEvent Ev(long offset, int second, EventKind kind, string json = "{}", string stream = "http:writes") =>
        new(stream, offset, T0.AddSeconds(second), "account", "a1", kind, JsonDocument.Parse(json).RootElement.Clone());

    [Fact]
    public void a_later_upsert_wins_per_field_and_keeps_untouched_fields()
    {
        var s = new EntityState();
        s.Apply(Ev(1, 1, EventKind.Upsert, """{"balance": 5, "owner": "ann"}"""));
        s.Apply(Ev(2, 2, EventKind.Upsert, """{"balance": 7}"""));

        Assert.True(s.Exists);
        Assert.Equal(7, s.Fields["balance"].Value.GetInt32());
        Assert.Equal("ann", s.Fields["owner"].Value.GetString());
    }

    [Fact]
    public void an_upsert_with_an_older_event_time_loses_even_when_it_arrives_last()
    {
        var s = new EntityState();
        s.Apply(Ev(2, 10, EventKind.Upsert, """{"balance": 7}"""));
        s.Apply(Ev(3, 5, EventKind.Upsert, """{"balance": 1}"""));
        Assert.Equal(7, s.Fields["balance"].Value.GetInt32());
    }

    [Fact]
    public void equal_event_times_are_ordered_by_stream_then_offset()
    {
        var s = new EntityState();
        s.Apply(Ev(9, 1, EventKind.Upsert, """{"v": "b"}""", stream: "b"));
        s.Apply(Ev(1, 1, EventKind.Upsert, """{"v": "a"}""", stream: "a"));
        Assert.Equal("b", s.Fields["v"].Value.GetString());
    }

    [Fact]
    public void a_delete_tombstones_older_fields_and_a_newer_upsert_revives_the_entity()
    {
        var s = new EntityState();
        s.Apply(Ev(1, 1, EventKind.Upsert, """{"balance": 5}"""));
        s.Apply(Ev(2, 2, EventKind.Delete));
        Assert.False(s.Exists);
        Assert.Empty(s.Fields);

        s.Apply(Ev(3, 1, EventKind.Upsert, """{"balance": 9}"""));
        Assert.False(s.Exists);

        s.Apply(Ev(4, 3, EventKind.Upsert, """{"owner": "bob"}"""));
        Assert.True(s.Exists);
        Assert.Equal(["owner"], s.Fields.Keys);
    }

    [Fact]
    public void events_are_counted_and_the_latest_by_version_is_kept()
    {
        var s = new EntityState();
        s.Apply(Ev(1, 5, EventKind.Event, """{"amount": 1}"""));
        s.Apply(Ev(2, 9, EventKind.Event, """{"amount": 2}"""));
        s.Apply(Ev(3, 7, EventKind.Event, """{"amount": 3}"""));
        Assert.Equal(3, s.EventCount);
        Assert.Equal(2, s.LastEvent!.Offset);
        Assert.True(s.Exists);
    }

    [Fact]
    public void an_applied_offset_is_recognised_per_stream()
    {
        var s = new EntityState();
        s.Apply(Ev(5, 1, EventKind.Event));
        Assert.True(s.HasApplied("http:writes", 5));
        Assert.True(s.HasApplied("http:writes", 4));
        Assert.False(s.HasApplied("http:writes", 6));
        Assert.False(s.HasApplied("kafka:tx/0", 5));
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

    [Fact]
    public void a_snapshot_restores_the_same_state()
    {
        var s = new EntityState();
        s.Apply(Ev(1, 1, EventKind.Upsert, """{"balance": 5}"""));
        s.Apply(Ev(2, 2, EventKind.Event, """{"amount": 3}"""));
        s.Apply(Ev(3, 0, EventKind.Delete));
        var restored = EntityState.FromSnapshot(s.ToSnapshot());
        Assert.Equal(Render(s), Render(restored));
    }

    private static string Render(IReadOnlyList<IngestEvent> events)
    {
        var s = new EntityState();
        foreach (var e in events) s.Apply(e);
        return Render(s);
    }

    internal static string Render(EntityState s) =>
        $"exists={s.Exists} count={s.EventCount} last={s.LastEvent?.Offset} tomb={s.Tombstone} " +
        string.Join(",", s.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value.Value.GetRawText()}@{f.Value.Version}")) +
        " offsets=" + string.Join(",", s.StreamOffsets.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}:{o.Value}"));
}
