// Cluster sharding as operators see it: per entity type, the shards and live entities each node hosts,
// asked of the whole cluster with Akka.Cluster.Sharding's GetClusterShardingStats.
using Akka.Actor;
using Akka.Cluster.Sharding;
using ContextLake.Gateway.Problems;

namespace ContextLake.Gateway.Admin;

public sealed record RegionNodeDoc(string Address, int Shards, int Entities);

public sealed record RegionDoc(string Type, int Shards, int Entities, IReadOnlyList<RegionNodeDoc> Nodes, IReadOnlyList<string> FailedShards);

public sealed record ShardDoc(string Id, int Entities);

public sealed record ShardNodeDoc(string Address, int Entities, IReadOnlyList<ShardDoc> Shards);

public sealed record ShardingStatsDoc(string Type, int Shards, int Entities, IReadOnlyList<ShardNodeDoc> Nodes, IReadOnlyList<string> FailedShards);

public static class ShardingAdmin
{
    /// <summary>How long each region may take to report its shards; a region that does not answer has its shards listed as failed.</summary>
    private static readonly TimeSpan StatsTimeout = TimeSpan.FromSeconds(5);

    public static void MapShardingAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/sharding/regions", Regions).WithName("ShardingRegions").Produces<IEnumerable<RegionDoc>>();
        admin.MapGet("/sharding/regions/{type}", Stats).WithName("ShardingStats").Produces<ShardingStatsDoc>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Regions(ActorSystem system, CancellationToken cancel)
    {
        var sharding = ClusterSharding.Get(system);
        var regions = new List<RegionDoc>();
        foreach (var type in sharding.ShardTypeNames.OrderBy(t => t, StringComparer.Ordinal))
        {
            var stats = await Ask(sharding, type, cancel);
            var nodes = stats.Nodes.Select(n => new RegionNodeDoc(n.Address, n.Shards.Count, n.Entities)).ToList();
            regions.Add(new RegionDoc(type, stats.Shards, stats.Entities, nodes, stats.FailedShards));
        }
        return Results.Ok(regions);
    }

    private static async Task<IResult> Stats(string type, ActorSystem system, CancellationToken cancel)
    {
        var sharding = ClusterSharding.Get(system);
        if (!sharding.ShardTypeNames.Contains(type))
            return new Problem(StatusCodes.Status404NotFound, "Unknown shard region",
                $"no shard region of type '{type}'; the types are: {string.Join(", ", sharding.ShardTypeNames.OrderBy(t => t, StringComparer.Ordinal))}").ToResult();
        return Results.Ok(await Ask(sharding, type, cancel));
    }

    private static async Task<ShardingStatsDoc> Ask(ClusterSharding sharding, string type, CancellationToken cancel)
    {
        var stats = await sharding.ShardRegion(type).Ask<ClusterShardingStats>(new GetClusterShardingStats(StatsTimeout), StatsTimeout * 2, cancel);
        var nodes = stats.Regions.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal).Select(r => new ShardNodeDoc(
            r.Key.ToString(), r.Value.Stats.Values.Sum(),
            r.Value.Stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new ShardDoc(s.Key, s.Value)).ToList())).ToList();
        var failed = stats.Regions.Values.SelectMany(r => r.Failed ?? []).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        return new ShardingStatsDoc(type, nodes.Sum(n => n.Shards.Count), nodes.Sum(n => n.Entities), nodes, failed);
    }
}
