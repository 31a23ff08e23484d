// Change notices: after a run of a stream is applied to the views, and before its watermark is reported,
// the run's tracker tells every node which view keys the run changed (ViewProjections.Applied). With the committed epochs
// that is all a subscription needs: the versions per epoch give any key's value at any epoch in the horizon.
using ContextLake.Views.Serialization;

namespace ContextLake.Views.Subscriptions;

/// <summary>
/// The run of <see cref="Stream"/> up to <see cref="UpTo"/> is applied to every view; <see cref="Keys"/> are the
/// view keys it changed, each with the offsets that changed it. Sent even when no key changed, because it
/// also says how far the stream's notices go: an epoch is followed only once its notices are all in.
/// </summary>
public sealed record ViewChangeNotice(string Stream, long UpTo, IReadOnlyList<ChangedViewKey> Keys) : IViewsMessage;

public sealed record ChangedViewKey(string View, long Incarnation, string Key, IReadOnlyList<long> Offsets);

public static class SubscriptionTopics
{
    /// <summary>The DistributedPubSub topic every node's subscription hub listens to.</summary>
    public const string ViewChanges = "contextlake-view-changes";
}
