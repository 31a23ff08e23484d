// Messages of the view actors (one per view incarnation and group key) and their journal records.
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Views.Algebra;
using ContextLake.Views.Projection;
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Actors;

/// <summary>The sharding address of a view's group key: "view@incarnation/key".</summary>
public readonly record struct ViewKeyAddress(string View, long Incarnation, string Key)
{
    public override string ToString() => $"{View}@{Incarnation}/{Key}";

    public static ViewKeyAddress Parse(string entityId)
    {
        var slash = entityId.IndexOf('/');
        var at = entityId.IndexOf('@');
        if (at <= 0 || slash < at || !long.TryParse(entityId.AsSpan(at + 1, slash - at - 1), out var incarnation))
            throw new FormatException($"'{entityId}' is not a view key address of the form view@incarnation/key");
        return new ViewKeyAddress(entityId[..at], incarnation, entityId[(slash + 1)..]);
    }
}

public interface IViewKeyCommand : IViewsMessage
{
    string Address { get; }
}

/// <summary>Apply deltas (per event) to one group key; replies <see cref="ViewDeltasApplied"/> once journaled.</summary>
public sealed record ApplyViewDeltas(string Address, IReadOnlyList<KeyDeltas> Batch) : IViewKeyCommand;

public sealed record ViewDeltasApplied(int Applied, int Duplicates) : IViewsMessage;

/// <summary>Read the group key as of <see cref="Vector"/>; windows end at <see cref="At"/>.</summary>
public sealed record ReadViewKey(string Address, IReadOnlyDictionary<string, long> Vector, DateTimeOffset At, TimeSpan? Span) : IViewKeyCommand;

public sealed record ViewKeyValues(IReadOnlyDictionary<string, JsonElement> Values, DateTimeOffset? WindowStart, DateTimeOffset? WindowEnd, long Late) : IViewsMessage;

/// <summary>The read cannot be answered as asked (bad window span, view gone); Reason says why.</summary>
public sealed record ViewReadRefused(string Reason) : IViewsMessage;

/// <summary>Journal row of a view key: the new (deduplicated) deltas of one command.</summary>
public sealed record ViewDeltaBatch(IReadOnlyList<KeyDeltas> Batch) : IViewsMessage, IChangeBatch<KeyDeltas>;

public sealed record ViewKeySnapshot(GroupAggregateSnapshot Base, Dictionary<string, long> BaseVector, IReadOnlyList<KeyDeltas> Pending) : IViewsMessage, IMultiVersionSnapshot<KeyDeltas>;

/// <summary>Key under which the view shard region is registered.</summary>
public sealed class ViewRegion
{
    public const string TypeName = "view";
}
