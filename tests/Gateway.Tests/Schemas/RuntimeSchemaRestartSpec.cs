// Schemas declared at run time are journaled in the view catalog before the PUT answers: after the node is killed
// (SIGKILL) and started again on the same journal, a declared schema is still enforced (over HTTP, and by a Kafka connector started then, which dead-letters
// the record with the same words), a configured schema changed at run time keeps its run-time form, and a configured
// schema deleted at run time is put back from configuration, as a configured view dropped at run time is.
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Connectors.Kafka;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Schemas;

public sealed class RuntimeSchemaRestartSpec() : JournalLifetime(JournalProvider.Sqlite)
{
    [Fact]
    public async Task a_run_time_schema_survives_a_restart_and_every_source_meets_it()
    {
        using var kafka = new MockKafkaCluster(initialRebalanceDelay: TimeSpan.FromMilliseconds(100));
        var environment = new Dictionary<string, string>(Journal.Environment)
        {
            ["ContextLake__Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["ContextLake__ConnectorsFile"] = "",
        };
        await using (var node = await NodeProcess.StartReadyAsync(environment))
        {
            Assert.Equal(201, (await node.PutJson("v1/schemas/probe", """{"fields": {"id": "string", "score": "string"}, "mode": "strict"}""")).Status);
            var (changed, body) = await node.PutJson("v1/schemas/card_tx",
                """{"fields": {"card_id": "string", "merchant_id": "string", "amount": "number", "country": "string", "channel": "string"}}""");
            Assert.True(changed == 200, body.ToString());
            Assert.Equal(200, (await node.DeleteJson("v1/schemas/account")).Status);
            await node.KillAsync();
        }

        await using var again = await NodeProcess.StartReadyAsync(environment);
        var (_, probe) = await again.GetJson("v1/schemas/probe");
        Assert.Equal("strict", probe.GetProperty("mode").GetString());
        var (refused, problem, _) = await again.PostJson("v1/events", NodeClient.Events(new { type = "probe", id = "h", data = new { score = 5 } }));
        Assert.Equal(400, refused);
        Assert.Equal("events[0].data.score: probe.score is declared string (ContextLake:Schemas), but the value is a number, 5",
            problem.GetProperty("detail").GetString());
        Assert.Equal("string", (await again.GetJson("v1/schemas/card_tx")).Body.GetProperty("fields").GetProperty("channel").GetString());
        Assert.Equal(200, (await again.GetJson("v1/schemas/account")).Status);

        var reasons = await Connectors.ProbeRecords.DeadLetterReasonsAsync(again, kafka.BootstrapServers,
            [("k-bad", """{"id": "k-bad", "score": 5}"""), ("k-strict", """{"id": "k-strict", "score": "x", "extra": 1}""")],
            ("k-good", """{"id": "k-good", "score": "fine"}"""));
        Assert.Equal(["data.score: probe.score is declared string (ContextLake:Schemas), but the value is a number, 5",
                "data.extra: probe.extra is not declared (ContextLake:Schemas:probe) and probe is strict (ContextLake:SchemaModes:probe)"],
            reasons);
    }
}
