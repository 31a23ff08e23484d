// Specs that saturate the machine on purpose (the scale oracle) run in this collection: alone, after the
// parallel ones, so neither their timings nor those of the specs beside them depend on what else runs.
using Xunit;

namespace ContextLake.Gateway.Tests.State;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "runs alone";
}
