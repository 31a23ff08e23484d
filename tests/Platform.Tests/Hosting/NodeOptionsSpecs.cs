using ContextLake.Platform.Hosting;
using Xunit;

namespace ContextLake.Platform.Tests.Hosting;

public sealed class NodeOptionsSpecs
{
    [Fact]
    public void the_defaults_are_valid_and_use_sqlite_under_data()
    {
        var options = new NodeOptions();
        Assert.Empty(options.Validate());
        Assert.Equal(JournalProvider.Sqlite, options.Journal.Provider);
        Assert.Equal("./data", options.Journal.DataDirectory);
        Assert.StartsWith("http://127.0.0.1:", options.Http.Urls);
    }

    [Fact]
    public void every_bad_value_is_reported_with_the_setting_it_belongs_to()
    {
        var options = new NodeOptions
        {
            Journal = { Provider = JournalProvider.PostgreSql, ConnectionString = " " },
            Http = { Urls = "ftp://x", MaxBatchEvents = 0 },
            Cluster = { Port = 70000, SeedNodes = ["127.0.0.1:4053"] },
            State = { Partitions = -1, SnapshotEvery = 0 },
        };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Journal:ConnectionString:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Http:Urls:") && e.Contains("ftp://x"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Http:MaxBatchEvents:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Cluster:Port:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Cluster:SeedNodes:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:State:Partitions:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:State:SnapshotEvery:"));
    }

    [Fact]
    public void schema_modes_name_a_declared_type_and_strict_or_open_and_undeclared_types_accept_or_refuse()
    {
        var options = new NodeOptions
        {
            Schemas = { ["probe"] = new() { ["label"] = "string" } },
            SchemaModes = { ["probe"] = "tight", ["ghost"] = "strict" },
            UndeclaredTypes = "maybe",
        };
        var errors = options.Validate();
        Assert.Contains("ContextLake:SchemaModes:probe: 'tight' is not one of strict, open", errors);
        Assert.Contains("ContextLake:SchemaModes:ghost: 'ghost' has no schema (Schemas:ghost)", errors);
        Assert.Contains("ContextLake:UndeclaredTypes: 'maybe' is not one of accept, refuse", errors);
    }

    [Fact]
    public void sqlite_with_several_seed_nodes_is_refused()
    {
        var options = new NodeOptions { Cluster = { SeedNodes = ["akka.tcp://contextlake@a:4053", "akka.tcp://contextlake@b:4053"] } };
        Assert.Contains(options.Validate(), e => e.Contains("ContextLake:Journal:Provider is sqlite"));
    }

    [Fact]
    public void sqlite_with_one_seed_node_that_is_another_node_is_refused_naming_the_setting()
    {
        var options = new NodeOptions { Cluster = { Port = 4053, SeedNodes = ["akka.tcp://contextlake@127.0.0.1:4054"] } };
        Assert.Contains(options.Validate(), e => e.StartsWith("ContextLake:Cluster:SeedNodes:") && e.Contains("127.0.0.1:4054") && e.Contains("sqlite"));
    }

    [Fact]
    public void sqlite_with_itself_as_the_only_seed_node_is_a_cluster_of_one()
    {
        var options = new NodeOptions { Cluster = { Port = 4053, SeedNodes = ["akka.tcp://contextlake@127.0.0.1:4053"] } };
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void cluster_timings_outside_their_range_are_refused()
    {
        var options = new NodeOptions
        {
            Cluster = { StableAfter = TimeSpan.Zero, DrainPeriod = TimeSpan.FromMinutes(5), HeartbeatPause = TimeSpan.FromMilliseconds(100), DownRemovalMargin = TimeSpan.Zero },
        };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Cluster:HeartbeatPause:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Cluster:DownRemovalMargin:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Cluster:StableAfter:"));
        Assert.Contains(errors, e => e.StartsWith("ContextLake:Cluster:DrainPeriod:"));
    }
}
