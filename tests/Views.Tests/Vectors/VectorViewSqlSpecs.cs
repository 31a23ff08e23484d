// CREATE VECTOR VIEW in the view dialect: what it parses to, and the errors that name line and column.
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using ContextLake.Views.Vectors;
using Xunit;

namespace ContextLake.Views.Tests.Vectors;

public sealed class VectorViewSqlSpecs
{
    private static readonly EntitySchemas Schemas = SchemaConfig.From(new Dictionary<string, Dictionary<string, string>>
    {
        ["merchant"] = new() { ["embedding"] = "vector", ["category"] = "string", ["risk"] = "number" },
    });

    private static ViewDefinitionException Rejects(string sql) =>
        Assert.Throws<ViewDefinitionException>(() => ViewSql.Validate(ViewSql.Parse(sql), Schemas));

    [Fact]
    public void a_vector_view_parses_to_its_column_source_filter_and_options()
    {
        var view = ViewSql.Parse("CREATE VECTOR VIEW similar_shops AS SELECT embedding FROM merchant WHERE risk < 5 WITH (dimensions = 128, metric = dot, partitions = 8, probes = 12)");
        ViewSql.Validate(view, Schemas);
        Assert.Equal("similar_shops", view.Name);
        Assert.Equal("merchant", view.Source);
        Assert.Equal("embedding", view.KeyColumn);
        Assert.NotNull(view.Where);
        Assert.Equal(new VectorSpec(128, VectorMetric.Dot, 8, 12), view.Vector);
    }

    [Fact]
    public void metric_partitions_and_probes_have_defaults()
    {
        var view = ViewSql.Parse("create vector view v as select embedding from merchant with (dimensions = 4);");
        Assert.Equal(new VectorSpec(4, VectorMetric.Cosine, VectorSpec.DefaultPartitions, IvfOptions.DefaultProbes), view.Vector);
        Assert.False(ViewSql.Parse("CREATE VIEW c AS SELECT category, COUNT(*) FROM merchant GROUP BY category").IsVector);
    }

    [Theory]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WITH (metric = cosine)", "line 1, column 56: a vector view needs WITH (dimensions = N, ...)")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WITH (dimensions = 0)", "line 1, column 75: dimensions must be a whole number from 1 to 4096, not 0")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WITH (dimensions = 4, metric = euclid)", "line 1, column 87: metric must be cosine or dot, not euclid")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WITH (dims = 4)", "line 1, column 62: unknown option 'dims' of a vector view; options are dimensions, metric, partitions, probes")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WITH (dimensions = 4, probes = 0)", "line 1, column 87: probes must be a whole number from 1 to 100000, not 0")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WITH (dimensions = 4, dimensions = 8)", "line 1, column 78: option dimensions is given more than once")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant", "line 1, column 55: expected WITH, found end of input")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT category FROM merchant WITH (dimensions = 4)", "line 1, column 32: a vector view indexes a vector column, but merchant.category is string")]
    [InlineData("CREATE VECTOR VIEW v AS SELECT embedding FROM merchant WHERE colour = 'red' WITH (dimensions = 4)", "line 1, column 62: unknown column 'colour' on merchant")]
    [InlineData("CREATE VIEW v AS SELECT category, MAX(embedding) FROM merchant GROUP BY category", "line 1, column 39: aggregate MAX cannot take vector column merchant.embedding")]
    public void bad_vector_views_are_refused_naming_line_and_column(string sql, string message) =>
        Assert.StartsWith(message, Rejects(sql).Message);

    [Fact]
    public void a_standalone_condition_parses_and_is_checked_against_the_source()
    {
        var condition = ViewSql.ParseCondition("category IN ('a', 'b') AND risk >= 2");
        ViewSql.ValidateCondition(condition, "merchant", Schemas);
        var error = Assert.Throws<ViewDefinitionException>(() => ViewSql.ValidateCondition(ViewSql.ParseCondition("risk = 'high'"), "merchant", Schemas));
        Assert.StartsWith("line 1, column 8: cannot compare merchant.risk (number) with 'high' (string)", error.Message);
    }
}
