// Messages of the epoch coordinator: sources report watermarks and read positions; the coordinator
// publishes each new epoch on the "epochs" topic and answers for the latest.
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.Epochs;

/// <summary>
/// From a source: every event of <see cref="Stream"/> up to <see cref="Watermark"/> is journaled and applied
/// to every entity and view it touches; <see cref="Read"/> is the highest offset the source has taken in.
/// </summary>
public sealed record ReportWatermark(string Stream, long Watermark, long Read) : IPlatformMessage;

public sealed record GetLatestEpoch : IPlatformMessage
{
    public static GetLatestEpoch Instance { get; } = new();
}

/// <summary>The coordinator's view of the streams: committed epoch and how far each source has read.</summary>
public sealed record GetStreamPositions : IPlatformMessage
{
    public static GetStreamPositions Instance { get; } = new();
}

/// <summary><see cref="LaggingSince"/>: for each stream read past its committed offset, since when it has been.</summary>
public sealed record StreamPositions(Epoch Latest, IReadOnlyDictionary<string, long> Read, IReadOnlyDictionary<string, DateTimeOffset> LaggingSince) : IPlatformMessage;

/// <summary>Journal row of the coordinator: one per published epoch, written before it is published.</summary>
public sealed record EpochRecorded(long N, Dictionary<string, long> Vector, DateTimeOffset CommittedAt) : IPlatformMessage;

public static class EpochTopics
{
    public const string Epochs = "contextlake-epochs";
}

/// <summary>Key under which the coordinator's singleton proxy is registered.</summary>
public sealed class EpochCoordinatorKey;
