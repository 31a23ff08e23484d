// Messages of the view partitions (key groups of (view, key) in one sharded persistent actor each), the
// derived change they take, and their snapshot.
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using ContextLake.Platform.Entities;
using ContextLake.Platform.State;
using ContextLake.Views.Algebra;
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Partitions;

/// <summary>Key type under which the view partitions' shard region is registered.</summary>
public sealed class ViewRegion
{
    public const string TypeName = "view";
}

/// <summary>The address of a view's group key, "view@incarnation/key": what a view key's partition is the hash of.</summary>
public readonly record struct ViewKeyAddress(string View, long Incarnation, string Key)
{
    public override string ToString() => $"{View}@{Incarnation}/{Key}";

    /// <summary>A view incarnation's id as projections and catalogs name it: "view@incarnation".</summary>
    public string ViewId => $"{View}@{Incarnation}";

    public int PartitionOf(int partitions) => KeyGroups.PartitionOf(ToString(), partitions);

    public static ViewKeyAddress Parse(string address)
    {
        var slash = address.IndexOf('/');
        var at = slash < 0 ? -1 : address.LastIndexOf('@', slash);
        if (at <= 0 || !long.TryParse(address.AsSpan(at + 1, slash - at - 1), out var incarnation))
            throw new FormatException($"'{address}' is not a view key address of the form view@incarnation/key");
        return new ViewKeyAddress(address[..at], incarnation, address[(slash + 1)..]);
    }
}

/// <summary>
/// The deltas one event (Stream, Offset) makes to one group key of one view incarnation: the change a view
/// partition takes, and the unit an epoch commits. Written compactly (one per event and key in view partitions'
/// rows) by <see cref="KeyDeltaJsonConverter"/>.
/// </summary>
[JsonConverter(typeof(KeyDeltaJsonConverter))]
public sealed record KeyDelta(string View, long Incarnation, string Key, string Stream, long Offset, IReadOnlyList<ViewDelta> Deltas) : IDownstreamChange
{
    private string? _address;

    public ViewKeyAddress Address => new(View, Incarnation, Key);

    /// <summary>"view@incarnation/key", built once: the key's name in its partition's store and in change notices.</summary>
    public string AddressText => _address ??= Address.ToString();

    public int EstimatedBytes
    {
        get
        {
            var bytes = 64 + View.Length + Key.Length + Stream.Length;
            for (var i = 0; i < Deltas.Count; i++)
            {
                var d = Deltas[i];
                bytes += 72 + d.RowVersion.Stream.Length;
                for (var j = 0; j < d.Arguments.Count; j++) bytes += 2 + d.Arguments[j].EstimatedBytes;
            }
            return bytes;
        }
    }
}

/// <summary>A chained batch of key deltas from entity partition <see cref="Source"/> (see IDownstreamBatch).</summary>
public sealed record ApplyViewDeltas(string Partition, string Channel, int Source, long Prev, long Through, IReadOnlyList<KeyDelta> Changes, IActorRef? ReplyTo)
    : IDownstreamBatch, IViewsMessage
{
    public IDownstreamBatch WithReplyTo(IActorRef? replyTo) => this with { ReplyTo = replyTo };
}

/// <summary>One key of a read: the view incarnation, the key, and the read time windows end at (with an optional span).</summary>
public sealed record ViewKeyRead(string View, long Incarnation, string Key, DateTimeOffset At, TimeSpan? Span);

/// <summary>Read keys of one view partition at epoch <see cref="N"/>; answered with <see cref="ViewKeyReads"/> in order, or ReadTooOld.</summary>
public sealed record ReadViewKeys(string Partition, long N, IReadOnlyList<ViewKeyRead> Reads) : IPartitionMessage, IViewsMessage;

public sealed record ViewKeyReads(IReadOnlyList<ViewKeyValues> Results) : IViewsMessage;

/// <summary>A key's values at the epoch, or why the read cannot be answered as asked (<see cref="Refused"/>: bad window span, view gone).</summary>
/// <summary>A view key's values at an epoch; <see cref="Exists"/> is false for a key no row has reached (its values are the empty aggregates).
/// <see cref="Group"/> (on this node only) is the values object read, whose JSON is written once and shared.
/// <see cref="Overflow"/> says which aggregate of the key left the numeric range (the key has no values to answer).</summary>
public sealed record ViewKeyValues(IReadOnlyDictionary<string, JsonElement> Values, DateTimeOffset? WindowStart, DateTimeOffset? WindowEnd, long Late, string? Refused = null, bool Exists = false,
    [property: System.Text.Json.Serialization.JsonIgnore] ContextLake.Views.Algebra.GroupValues? Group = null, string? Overflow = null);

/// <summary>Journal row of a view partition: the batches of key deltas it took during one write.</summary>
public sealed record ViewPartitionRow(IReadOnlyList<DownstreamRowPart<KeyDelta>> Parts) : IViewsMessage;

/// <summary>A view key's committed aggregate (and, in snapshots before they were taken as of a committed row, its pending deltas).</summary>
public sealed record StoredAggregate(string Address, GroupAggregateSnapshot? Value, IReadOnlyList<KeyDelta>? Pending);

/// <summary>A view incarnation a partition holds keys of, with its definition (a snapshot restores without the catalog).</summary>
public sealed record HeldView(string Id, string Sql);

/// <summary>
/// A view partition's state as of a journal row: <see cref="CommittedThrough"/> is the epoch its values are committed at,
/// <see cref="Committed"/> that epoch's vector (a replay after it takes only changes it does not cover; null in snapshots
/// that held pending deltas).
/// </summary>
public sealed record ViewPartitionSnapshot(long CommittedThrough, IReadOnlyList<ChainMark> Chains, IReadOnlyList<HeldView> Views, IReadOnlyList<StoredAggregate> Keys,
    IReadOnlyDictionary<string, long>? Committed = null) : IViewsMessage;
