// The seam between entity partitions and what is derived from them: an entity partition knows its
// projections only as specs it journals (id, source type, definition) and compiles them through
// IProjections, which the Views project implements (grouped views, vector views). A projection turns a
// row change into changes for downstream partitions; the entity partition batches, chains and sends them.
using Akka.Actor;
using ContextLake.Platform.State;

namespace ContextLake.Platform.Entities;

/// <summary>A derived change for a downstream partition: what one event did to one of its keys.</summary>
public interface IDownstreamChange : IStreamChange
{
    /// <summary>About how many bytes it takes on the wire: batches are cut below Akka.Remote's frame size.</summary>
    int EstimatedBytes { get; }
}

/// <summary>Collects what one row change derives: changes per downstream partition, and the view keys changed.</summary>
public interface IProjectionSink
{
    void Add(DownstreamTarget target, IDownstreamChange change);

    /// <summary>A view key the change touches, for change notices (subscriptions).</summary>
    void Changed(string key);
}

/// <summary>A compiled projection: pure, so a replay of the same rows derives the same changes.</summary>
public interface IProjection
{
    ProjectionSpec Spec { get; }

    void Project(RowChange change, IProjectionSink sink);
}

/// <summary>What entity partitions need from the Views project, wired in by the composition root.</summary>
public interface IProjections
{
    /// <summary>The version of this node's catalog replica (it only grows; -1 until the catalog is known).</summary>
    long CatalogVersion { get; }

    /// <summary>The projections the catalog holds now (views being backfilled included).</summary>
    IReadOnlyList<ProjectionSpec> Current { get; }

    IProjection Compile(ProjectionSpec spec);

    /// <summary>The message that carries <paramref name="changes"/> to <paramref name="target"/> as one link of a chain.</summary>
    IDownstreamBatch Batch(DownstreamTarget target, string channel, int source, long prev, long through, IReadOnlyList<IDownstreamChange> changes);

    /// <summary>The shard region of a downstream region name ("view", "vector").</summary>
    IActorRef Region(string region);

    /// <summary>Tells the catalog that this partition has delivered a projection's backfill in full.</summary>
    void Backfilled(ProjectionSpec spec, int partition, long events);
}

/// <summary>No projections: an actor system of entity partitions alone (platform tests, a node without the Views project).</summary>
public sealed class NoProjections : IProjections
{
    public static NoProjections Instance { get; } = new();

    public long CatalogVersion => 0;

    public IReadOnlyList<ProjectionSpec> Current => [];

    public IProjection Compile(ProjectionSpec spec) => throw new InvalidOperationException($"no projections here: cannot compile {spec.Id}");

    public IDownstreamBatch Batch(DownstreamTarget target, string channel, int source, long prev, long through, IReadOnlyList<IDownstreamChange> changes) =>
        throw new InvalidOperationException($"no projections here: nothing goes to {target}");

    public IActorRef Region(string region) => throw new InvalidOperationException($"no projections here: no region '{region}'");

    public void Backfilled(ProjectionSpec spec, int partition, long events)
    {
    }
}
