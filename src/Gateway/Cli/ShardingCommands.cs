// contextlake sharding regions | stats TYPE: shards and live entities per node, over /admin/sharding/….
using System.CommandLine;
using System.Globalization;

namespace ContextLake.Cli;

public static class ShardingCommands
{
    public static Command Build()
    {
        var sharding = new Command("sharding", "cluster sharding: regions, stats TYPE");
        sharding.Subcommands.Add(ToolCommands.Leaf("regions", "per entity type: shards and entities on each node", Regions));
        var type = new Argument<string>("type") { Description = "the sharded type, as 'sharding regions' lists them (entity, view)" };
        sharding.Subcommands.Add(ToolCommands.Leaf("stats", "one type's shards on each node with their entity counts",
            (inv, cancel) => Stats(inv, inv.Parse.GetValue(type)!, cancel), type));
        return sharding;
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static async Task<int> Regions(Invocation inv, CancellationToken cancel)
    {
        var answer = await inv.Api.GetAsync("admin/sharding/regions", cancel);
        if (inv.Json)
        {
            await inv.Out.WriteLineAsync(answer.Text);
            return ExitCodes.Ok;
        }
        var rows = new List<IReadOnlyList<string>>();
        foreach (var region in answer.Json.EnumerateArray())
        {
            var type = region.GetProperty("type").GetString()!;
            foreach (var node in region.GetProperty("nodes").EnumerateArray())
                rows.Add([type, node.GetProperty("address").GetString()!, N(node.GetProperty("shards").GetInt32()), N(node.GetProperty("entities").GetInt32())]);
            rows.Add([type, "(all nodes)", N(region.GetProperty("shards").GetInt32()), N(region.GetProperty("entities").GetInt32())]);
        }
        Table.Write(inv.Out, ["TYPE", "NODE", "SHARDS", "ENTITIES"], rows);
        foreach (var region in answer.Json.EnumerateArray())
            if (region.GetProperty("failedShards").GetArrayLength() > 0)
                await inv.Out.WriteLineAsync($"{region.GetProperty("type").GetString()}: shards that did not answer: " +
                    string.Join(", ", region.GetProperty("failedShards").EnumerateArray().Select(s => s.GetString())));
        return ExitCodes.Ok;
    }

    private static async Task<int> Stats(Invocation inv, string type, CancellationToken cancel)
    {
        var answer = await inv.Api.GetAsync($"admin/sharding/regions/{Uri.EscapeDataString(type)}", cancel);
        if (inv.Json)
        {
            await inv.Out.WriteLineAsync(answer.Text);
            return ExitCodes.Ok;
        }
        var json = answer.Json;
        var rows = json.GetProperty("nodes").EnumerateArray().SelectMany(node => node.GetProperty("shards").EnumerateArray().Select(s =>
            (IReadOnlyList<string>)[node.GetProperty("address").GetString()!, s.GetProperty("id").GetString()!, N(s.GetProperty("entities").GetInt32())])).ToList();
        Table.Write(inv.Out, ["NODE", "SHARD", "ENTITIES"], rows);
        await inv.Out.WriteLineAsync($"{type}: {N(json.GetProperty("shards").GetInt32())} shards, {N(json.GetProperty("entities").GetInt32())} entities " +
            $"on {N(json.GetProperty("nodes").GetArrayLength())} node{(json.GetProperty("nodes").GetArrayLength() == 1 ? "" : "s")}");
        if (json.GetProperty("failedShards").GetArrayLength() > 0)
            await inv.Out.WriteLineAsync("shards that did not answer: " + string.Join(", ", json.GetProperty("failedShards").EnumerateArray().Select(s => s.GetString())));
        return ExitCodes.Ok;
    }
}
