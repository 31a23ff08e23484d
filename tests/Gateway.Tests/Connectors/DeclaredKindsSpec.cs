// Declared schemas are enforced at every source: for each kind (string, number, boolean, time, vector) a value of
// another kind in a declared field is a 400 over HTTP naming events[i].data.field, what was declared and what came,
// with nothing of the batch written; the same record through Kafka is a dead letter with the same words, and the
// stream moves on to the good record after it. Null, absent and undeclared fields pass.
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Connectors.Kafka;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Connectors;

public sealed class DeclaredKindsSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    private static readonly Dictionary<string, string> Declared = new()
    {
        ["ContextLake__Schemas__probe__label"] = "string",
        ["ContextLake__Schemas__probe__score"] = "number",
        ["ContextLake__Schemas__probe__active"] = "boolean",
        ["ContextLake__Schemas__probe__seen"] = "time",
        ["ContextLake__Schemas__probe__embedding"] = "vector",
    };

    /// <summary>A record of each kind with a wrong value, and the words its refusal must hold.</summary>
    private static readonly (string Id, object Data, string Refusal)[] Wrong =
    [
        ("w-string", new { label = 7 }, "data.label: probe.label is declared string (ContextLake:Schemas), but the value is a number, 7"),
        ("w-number", new { score = "lots" }, "data.score: probe.score is declared number (ContextLake:Schemas), but the value is a string, \"lots\""),
        ("w-boolean", new { active = "yes" }, "data.active: probe.active is declared boolean (ContextLake:Schemas), but the value is a string, \"yes\""),
        ("w-time", new { seen = "yesterday" }, "data.seen: probe.seen is declared time (ContextLake:Schemas), but the value is a string, \"yesterday\""),
        ("w-vector", new { embedding = new object[] { 0.5, "x" } }, "data.embedding: probe.embedding is declared vector (ContextLake:Schemas), but the value is an array, [0.5,\"x\"]"),
    ];

    private static readonly object Good = new
    {
        label = "ok", score = 1.5, active = true, seen = "2026-11-24T10:00:00Z", embedding = new[] { 0.1, 0.2 }, extra = "undeclared",
    };

    /// <summary>A Kafka record: the fields, and the id beside them.</summary>
    private static string Record(string id, object data)
    {
        var fields = JsonSerializer.SerializeToNode(data)!.AsObject();
        fields["id"] = id;
        return fields.ToJsonString();
    }

    [Fact]
    public async Task a_wrong_kind_is_a_400_over_http_and_a_dead_letter_through_kafka_naming_the_field()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        await using var node = await NodeProcess.StartReadyAsync(new Dictionary<string, string>(Journal.Environment.Concat(Declared))
        {
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__ConnectorsFile"] = "",
        });

        foreach (var (id, data, refusal) in Wrong)
        {
            var batch = NodeClient.Events(new { type = "probe", id = $"http-ok-{id}", data = Good }, new { type = "probe", id = $"http-{id}", data });
            var (status, problem, _) = await node.PostJson("v1/events", batch);
            Assert.Equal(400, status);
            Assert.Equal("events[1]." + refusal, problem.GetProperty("detail").GetString());
            // All or nothing: the good event before it was not written either.
            Assert.False((await node.GetJson($"v1/entities/probe/http-ok-{id}")).Body.GetProperty("exists").GetBoolean());
        }
        var (accepted, written, _) = await node.PostJson("v1/events", NodeClient.Events(
            new { type = "probe", id = "http-good", data = Good },
            new { type = "probe", id = "http-nulls", data = new { label = (string?)null, score = (double?)null } },
            new { type = "other", id = "x", data = new { score = "anything goes for an undeclared type" } }));
        Assert.True(accepted == 200, written.ToString());

        var reasons = await ProbeRecords.DeadLetterReasonsAsync(node, kafka.BootstrapServers,
            Wrong.Select(w => (w.Id, Record(w.Id, w.Data))), ("k-good", Record("k-good", Good)));
        Assert.Equal(Wrong.Select(w => w.Refusal), reasons);
        foreach (var (id, _, _) in Wrong)
            Assert.False((await node.GetJson($"v1/entities/probe/{id}")).Body.GetProperty("exists").GetBoolean());
    }
}
