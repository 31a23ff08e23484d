// Specs that run a cluster of several node processes are in this collection: one such cluster at a time, beside the
// single-node specs (which run three classes at once), so that a two-core machine never holds nine node processes.
using Xunit;

namespace ContextLake.Gateway.Tests.Cluster;

[CollectionDefinition(Name)]
public sealed class NodeClusters
{
    public const string Name = "node clusters";
}
