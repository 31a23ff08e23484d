// What an event meets before it is journaled: its data's size, the numeric model, and each declared field's kind;
// each refusal says where in data, what was declared and what came, and everything else passes.
using System.Text.Json;
using ContextLake.Platform.Events;
using Xunit;

namespace ContextLake.Platform.Tests.Entities;

public sealed class EventAdmissionSpecs
{
    private static readonly EventAdmission Admission = new(new Dictionary<string, Dictionary<string, string>>
    {
        ["probe"] = new() { ["label"] = "string", ["score"] = "number", ["active"] = "boolean", ["seen"] = "time", ["embedding"] = "vector" },
    }, maxEventBytes: 1024);

    private static string? Refusal(string type, string json) => Admission.Check(type, JsonDocument.Parse(json).RootElement)?.At("data");

    [Theory]
    [InlineData("""{"label": "a", "score": -2.5, "active": false, "seen": "2026-11-24T10:00:00Z", "embedding": [0.1, 2], "other": {"x": [1]}}""")]
    [InlineData("""{"label": null, "score": null, "seen": "2026-11-24"}""")]
    [InlineData("""{}""")]
    public void values_of_their_declared_kind_and_null_or_absent_fields_pass(string data) => Assert.Null(Refusal("probe", data));

    [Fact]
    public void an_undeclared_type_takes_any_kind_but_not_numbers_outside_the_model()
    {
        Assert.Null(Refusal("other", """{"score": "lots", "seen": 12}"""));
        Assert.StartsWith("data.limits.daily: 1e300 is outside the numeric range", Refusal("other", """{"limits": {"daily": 1e300}}"""));
    }

    [Theory]
    [InlineData("""{"label": 7}""", "data.label: probe.label is declared string (ContextLake:Schemas), but the value is a number, 7")]
    [InlineData("""{"score": "lots"}""", "data.score: probe.score is declared number (ContextLake:Schemas), but the value is a string, \"lots\"")]
    [InlineData("""{"score": [1]}""", "data.score: probe.score is declared number (ContextLake:Schemas), but the value is an array, [1]")]
    [InlineData("""{"active": 1}""", "data.active: probe.active is declared boolean (ContextLake:Schemas), but the value is a number, 1")]
    [InlineData("""{"seen": "10"}""", "data.seen: probe.seen is declared time (ContextLake:Schemas), but the value is a string, \"10\"")]
    [InlineData("""{"seen": 1764000000000}""", "data.seen: probe.seen is declared time (ContextLake:Schemas), but the value is a number, 1764000000000")]
    [InlineData("""{"embedding": {"x": 1}}""", "data.embedding: probe.embedding is declared vector (ContextLake:Schemas), but the value is an object, {\"x\": 1}")]
    [InlineData("""{"embedding": [1, true]}""", "data.embedding: probe.embedding is declared vector (ContextLake:Schemas), but the value is an array, [1, true]")]
    public void a_value_of_another_kind_is_refused_naming_field_declaration_and_value(string data, string expected) =>
        Assert.Equal(expected, Refusal("probe", data));

    [Fact]
    public void data_past_the_size_limit_is_refused_naming_the_setting_and_a_long_value_is_quoted_short()
    {
        var big = JsonSerializer.Serialize(new { label = new string('x', 2000) });
        Assert.Equal($"data has {big.Length} bytes; at most 1024 are accepted per event (setting ContextLake:Limits:MaxEventBytes)", Refusal("probe", big));
        var refusal = Refusal("probe", JsonSerializer.Serialize(new { score = new string('y', 100) }))!;
        Assert.EndsWith("but the value is a string, \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…", refusal);
    }

    [Fact]
    public void a_strict_type_refuses_undeclared_fields_and_undeclared_types_can_be_refused_too()
    {
        var schemas = new Dictionary<string, Dictionary<string, string>> { ["probe"] = new() { ["label"] = "string" } };
        var strict = new EventAdmission(schemas, 1024, new Dictionary<string, string> { ["probe"] = "strict" }, refuseUndeclaredTypes: true);
        string? Check(string type, string json) => strict.Check(type, JsonDocument.Parse(json).RootElement)?.At("events[0].data");

        Assert.Null(Check("probe", """{"label": "a"}"""));
        Assert.Equal("events[0].data.colour: probe.colour is not declared (ContextLake:Schemas:probe) and probe is strict (ContextLake:SchemaModes:probe)",
            Check("probe", """{"label": "a", "colour": "red"}"""));
        Assert.Equal("events[0].data is of type 'other', which has no schema (ContextLake:Schemas:other) while ContextLake:UndeclaredTypes is refuse",
            Check("other", """{"x": 1}"""));
        // Open (the default) takes both.
        Assert.Null(Admission.Check("probe", JsonDocument.Parse("""{"colour": "red"}""").RootElement));
    }

    [Fact]
    public void declaring_anew_replaces_every_type_at_once()
    {
        var admission = new EventAdmission(new Dictionary<string, Dictionary<string, string>> { ["probe"] = new() { ["score"] = "number" } }, 1024);
        string? Check(string json) => admission.Check("probe", JsonDocument.Parse(json).RootElement)?.At("data");
        Assert.NotNull(Check("""{"score": "x"}"""));

        admission.Declare([("probe", new Dictionary<string, string> { ["score"] = "string" }, true)]);
        Assert.Null(Check("""{"score": "x"}"""));
        Assert.Equal("data.score: probe.score is declared string (ContextLake:Schemas), but the value is a number, 5", Check("""{"score": 5}"""));
        Assert.StartsWith("data.other: probe.other is not declared", Check("""{"score": "x", "other": 1}"""));

        admission.Declare([]);
        Assert.Null(Check("""{"score": 5, "other": 1}"""));
    }

    [Fact]
    public void admitting_an_event_of_a_declared_type_allocates_nothing()
    {
        var data = JsonDocument.Parse("""{"label": "a", "score": 2.5, "active": true, "seen": "2026-11-24T10:00:00Z", "embedding": [0.1, 2]}""").RootElement;
        Assert.Null(Admission.Check("probe", data));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) Admission.Check("probe", data);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
