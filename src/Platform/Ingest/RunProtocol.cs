// Messages between the stream sources on a node, their run tracker, and the observer that hears of each
// applied run before its watermark goes to the epoch coordinator.
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;

namespace ContextLake.Platform.Ingest;

/// <summary>How a run went: events journaled for the first time, and events the partitions had already.</summary>
public sealed record RunReport(int Persisted, int Duplicates);

/// <summary>A run split by entity partition and cut into parts (local only: it carries the completion of the run).</summary>
internal sealed record SubmitRun(
    string Stream, long UpTo, long Read, IReadOnlyList<(int Partition, IReadOnlyList<IngestEvent> Events)> ByPartition,
    DateTimeOffset ReadAt, DateTimeOffset? NewestEventTime, TaskCompletionSource<RunReport> Done);

/// <summary>Hears of each run of a stream once it is applied everywhere, before its watermark is reported.</summary>
public interface IRunObserver
{
    /// <summary>The run of <paramref name="stream"/> ending at <paramref name="upTo"/> is applied; <paramref name="keys"/> are the view keys it changed.</summary>
    void Applied(string stream, long upTo, IReadOnlyCollection<string> keys);
}

/// <summary>An observer that hears nothing (tests and nodes without views).</summary>
public sealed class NoRunObserver : IRunObserver
{
    public static NoRunObserver Instance { get; } = new();

    public void Applied(string stream, long upTo, IReadOnlyCollection<string> keys)
    {
    }
}

/// <summary>How an entity partition's part of a run is addressed (an event's key group).</summary>
public static class RunParts
{
    public static int PartitionOf(IngestEvent e, int partitions) => State.KeyGroups.PartitionOf(e.Address, partitions);

    /// <summary>A rough size of an event on the wire, for cutting parts below the message size.</summary>
    public static int EstimatedBytes(IngestEvent e) =>
        96 + e.EntityType.Length + e.EntityId.Length + e.Stream.Length + System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e.Data).Length;

    internal static ApplyRunPart Part(int partition, string stream, long prev, long through, IReadOnlyList<IngestEvent> events, long tag, Akka.Actor.IActorRef tracker) =>
        new(State.KeyGroups.Id(partition), stream, prev, through, events, tag, tracker);
}
