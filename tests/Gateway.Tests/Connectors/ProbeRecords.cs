// How a spec sees what a Kafka connector does with records a schema refuses: the records go to one partition of the
// topic "probes" with a good record last, a connector of entity type "probe" reads it, and once the good record's
// entity exists every refused record before it has been dead-lettered; the answer is their reasons, in order.
using System.Text.Json;
using Confluent.Kafka;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Connectors;

public static class ProbeRecords
{
    public static async Task<List<string?>> DeadLetterReasonsAsync(
        NodeProcess node, string bootstrapServers, IEnumerable<(string Id, string Json)> refused, (string Id, string Json) good)
    {
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrapServers }).Build())
        {
            // One partition, so the good record comes after every refused one.
            var partition = new TopicPartition("probes", 0);
            foreach (var (id, json) in refused.Append(good))
                producer.Produce(partition, new Message<string, string> { Key = id, Value = json });
            producer.Flush(TimeSpan.FromSeconds(20));
        }
        var (created, body, _) = await node.PostJson("v1/connectors", JsonSerializer.Serialize(new
        {
            name = "probes",
            config = new { type = "kafka", topic = "probes", entityType = "probe", idField = "id" },
        }));
        Assert.True(created == 201, $"{created} {body}");

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await node.GetJson($"v1/entities/probe/{good.Id}")).Body.GetProperty("exists").GetBoolean())
        {
            Assert.True(DateTime.UtcNow < deadline, "the good record after the refused ones did not arrive");
            await Task.Delay(100);
        }
        var (_, letters) = await node.GetJson("v1/connectors/probes/dead-letters");
        return letters.EnumerateArray().Select(d => d.GetProperty("reason").GetString()).ToList();
    }
}
