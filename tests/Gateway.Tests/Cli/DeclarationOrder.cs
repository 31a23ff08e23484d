// Runs a class's tests in the order they are written, for specs whose later steps change a shared
// cluster (a node downed, a node left) that earlier steps read.
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ContextLake.Gateway.Tests.Cli;

public sealed class DeclarationOrder : ITestCaseOrderer
{
    public const string Name = "ContextLake.Gateway.Tests.Cli.DeclarationOrder";
    public const string Assembly = "ContextLake.Gateway.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => ((IReflectionMethodInfo)t.TestMethod.Method).MethodInfo.MetadataToken);
}
