// How entity commands find their shard: a stable hash of "type/id" (string.GetHashCode differs per process).
using System.Text;
using Akka.Cluster.Sharding;

namespace ContextLake.Platform.Entities;

/// <summary>Key type under which the entity shard region is registered with Akka.Hosting.</summary>
public sealed class EntityRegion
{
    public const string TypeName = "entity";
}

public sealed class EntityMessageExtractor(int shards) : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        IEntityCommand c => c.Key.ToString(),
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message) is { } id ? ShardId(id, message) : null;

    public string ShardId(string entityId, object? messageHint = null) =>
        (StableHash(entityId) % (uint)shards).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>FNV-1a over UTF-8: the same shard for the same id in every process, for the cluster's life.</summary>
    public static uint StableHash(string s)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return hash;
    }
}
