// Messages of the vector partitions (one sharded persistent actor per vector view incarnation and
// partition), the change they take, and their snapshot. A vector row is what an entity's row contributes to a vector view: its vector,
// prepared for the metric, and its other fields (for "where" filters and answers).
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using Akka.Actor;
using ContextLake.Platform.State;
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Vectors;

/// <summary>The sharding address of one partition of a vector view: "view@incarnation#partition".</summary>
public readonly record struct VectorPartitionAddress(string View, long Incarnation, int Partition)
{
    public override string ToString() => $"{View}@{Incarnation}#{Partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The partition an entity's vector lives in: a stable hash of its id (the same on every node).</summary>
    public static int PartitionOf(string entityId, int partitions) => KeyGroups.PartitionOf(entityId, partitions);

    public static VectorPartitionAddress Parse(string entityId)
    {
        var at = entityId.LastIndexOf('@');
        var hash = entityId.LastIndexOf('#');
        if (at <= 0 || hash < at
            || !long.TryParse(entityId.AsSpan(at + 1, hash - at - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var incarnation)
            || !int.TryParse(entityId.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
            throw new FormatException($"'{entityId}' is not a vector partition address of the form view@incarnation#partition");
        return new VectorPartitionAddress(entityId[..at], incarnation, partition);
    }
}

/// <summary>One entity row as a vector view holds it. Two rows are the same row when all three parts are equal.</summary>
public sealed record VectorRow(EventVersion Version, float[] Vector, IReadOnlyDictionary<string, JsonElement> Fields)
{
    public bool SameAs(VectorRow other) =>
        Version == other.Version && Vector.AsSpan().SequenceEqual(other.Vector)
        && Fields.Count == other.Fields.Count
        && Fields.All(f => other.Fields.TryGetValue(f.Key, out var o) && JsonElement.DeepEquals(f.Value, o));
}

/// <summary>What one event (Stream, Offset) did to an entity's row in one vector view: the change a vector partition takes.</summary>
public sealed record VectorChange(string Stream, long Offset, string EntityId, VectorRow? Before, VectorRow? After) : IDownstreamChange
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int EstimatedBytes => 64 + EntityId.Length + Stream.Length + Size(Before) + Size(After);

    private static int Size(VectorRow? row) =>
        row is null ? 0 : 48 + row.Vector.Length * 12 + row.Fields.Sum(f => 8 + f.Key.Length + System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(f.Value).Length);
}

/// <summary>A chained batch of vector changes from entity partition <see cref="Source"/> for partition <see cref="Partition"/> ("view@incarnation#k").</summary>
public sealed record ApplyVectorChanges(string Partition, string Channel, int Source, long Prev, long Through, IReadOnlyList<VectorChange> Changes, IActorRef? ReplyTo)
    : IDownstreamBatch, IViewsMessage
{
    public IDownstreamBatch WithReplyTo(IActorRef? replyTo) => this with { ReplyTo = replyTo };
}

/// <summary>
/// The <see cref="K"/> rows of the partition most similar to <see cref="Query"/> (prepared for the metric) at epoch
/// <see cref="N"/>, keeping only rows where <see cref="Where"/> holds; <see cref="Exact"/> scans every vector.
/// </summary>
public sealed record SearchVectors(string Partition, long N, float[] Query, int K, string? Where, bool Exact) : IPartitionMessage, IViewsMessage;

public sealed record VectorHit(string Id, float Score, IReadOnlyDictionary<string, JsonElement> Fields);

/// <summary>A partition's best hits, or why it cannot search as asked (<see cref="Refused"/>).</summary>
public sealed record VectorNeighbors(IReadOnlyList<VectorHit> Hits, string? Refused = null) : IViewsMessage;

public sealed record WeightedRow(VectorRow Row, int Weight);

/// <summary>Journal row of a vector partition: the batches of vector changes it took during one write.</summary>
public sealed record VectorPartitionRow(IReadOnlyList<DownstreamRowPart<VectorChange>> Parts) : IViewsMessage;

/// <summary>An entity's committed rows in the partition and its pending changes.</summary>
public sealed record VectorEntitySnapshot(string Id, IReadOnlyList<WeightedRow>? Rows, IReadOnlyList<VectorChange>? Pending);

/// <summary>
/// A vector partition's snapshot as of a journal row: its chains then, its view's definition, every entity's committed rows,
/// and the committed epoch's vector (null in snapshots that held pending changes).
/// </summary>
public sealed record VectorPartitionSnapshot(long CommittedThrough, IReadOnlyList<ChainMark> Chains, string Sql, IReadOnlyList<VectorEntitySnapshot> Entities,
    IReadOnlyDictionary<string, long>? Committed = null) : IViewsMessage;

/// <summary>Key under which the vector partition shard region is registered.</summary>
public sealed class VectorRegion
{
    public const string TypeName = "vector";
}
