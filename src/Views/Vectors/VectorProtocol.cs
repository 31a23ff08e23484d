// Messages of the vector partitions (one sharded actor per vector view incarnation and partition) and
// their journal records. A vector row is what an entity's row contributes to a vector view: its vector,
// prepared for the metric, and its other fields (for "where" filters and answers).
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Views.Actors;
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Vectors;

/// <summary>The sharding address of one partition of a vector view: "view@incarnation#partition".</summary>
public readonly record struct VectorPartitionAddress(string View, long Incarnation, int Partition)
{
    public override string ToString() => $"{View}@{Incarnation}#{Partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The partition an entity's vector lives in: a stable hash of its id (the same on every node).</summary>
    public static int PartitionOf(string entityId, int partitions) => (int)(EntityMessageExtractor.StableHash(entityId) % (uint)partitions);

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

/// <summary>What one event (Stream, Offset) did to an entity's row in one vector view: the unit a partition deduplicates.</summary>
public sealed record VectorChange(string Stream, long Offset, string EntityId, VectorRow? Before, VectorRow? After) : IStreamChange;

public interface IVectorPartitionCommand : IViewsMessage
{
    string Address { get; }
}

/// <summary>Apply changes to one partition; replies <see cref="ViewDeltasApplied"/> once journaled.</summary>
public sealed record ApplyVectorChanges(string Address, IReadOnlyList<VectorChange> Batch) : IVectorPartitionCommand;

/// <summary>
/// The <see cref="K"/> rows of the partition most similar to <see cref="Query"/> (prepared for the metric) as
/// of <see cref="Vector"/>, keeping only rows where <see cref="Where"/> holds; <see cref="Exact"/> scans every vector.
/// </summary>
public sealed record SearchVectors(string Address, IReadOnlyDictionary<string, long> Vector, float[] Query, int K, string? Where, bool Exact)
    : IVectorPartitionCommand;

public sealed record VectorHit(string Id, float Score, IReadOnlyDictionary<string, JsonElement> Fields);

public sealed record VectorNeighbors(IReadOnlyList<VectorHit> Hits) : IViewsMessage;

/// <summary>Journal row of a partition: the new (deduplicated) changes of one command.</summary>
public sealed record VectorChangeBatch(IReadOnlyList<VectorChange> Batch) : IViewsMessage, IChangeBatch<VectorChange>;

public sealed record WeightedRow(VectorRow Row, int Weight);

public sealed record VectorEntitySnapshot(string Id, IReadOnlyList<WeightedRow> Rows);

public sealed record VectorPartitionSnapshot(IReadOnlyList<VectorEntitySnapshot> Entities, Dictionary<string, long> BaseVector, IReadOnlyList<VectorChange> Pending)
    : IViewsMessage, IMultiVersionSnapshot<VectorChange>;

/// <summary>Key under which the vector partition shard region is registered.</summary>
public sealed class VectorRegion
{
    public const string TypeName = "vector";
}
