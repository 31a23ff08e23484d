// The size limits of a definition (ContextLake:Limits): each refusal names its setting and the place it
// applies to, and a definition within every limit passes.
using ContextLake.Platform.Hosting;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using Xunit;

namespace ContextLake.Views.Tests.Sql;

public sealed class ViewSqlLimitsSpecs
{
    private static readonly LimitOptions Limits = new() { MaxNameLength = 16, MaxAggregates = 3, MaxViewsPerSource = 2, MaxViewSqlLength = 200 };

    private static ViewDefinitionException Refusal(string sql, int viewsOnSource = 0) =>
        Assert.Throws<ViewDefinitionException>(() =>
        {
            ViewSql.CheckLength(sql, Limits);
            ViewSql.CheckLimits(ViewSql.Parse(sql), Limits, viewsOnSource);
        });

    [Fact]
    public void a_definition_within_every_limit_passes()
    {
        var view = ViewSql.Parse("CREATE VIEW credits AS SELECT to_account, SUM(amount) AS total, COUNT(*) AS n FROM transfer GROUP BY to_account");
        ViewSql.CheckLimits(view, Limits, viewsOnSource: 1);
    }

    [Fact]
    public void each_limit_is_refused_naming_its_setting()
    {
        Assert.Contains("setting ContextLake:Limits:MaxNameLength", Refusal("CREATE VIEW a_rather_long_view_name AS SELECT to_account, COUNT(*) AS n FROM transfer GROUP BY to_account").Message);
        var alias = Refusal("CREATE VIEW v AS SELECT to_account, COUNT(*) AS a_rather_long_column FROM transfer GROUP BY to_account");
        Assert.Contains("the column name 'a_rather_long_co…' has 20 characters", alias.Message);
        Assert.Contains("setting ContextLake:Limits:MaxNameLength", alias.Message);
        Assert.Contains("the view has 4 aggregates; at most 3 are accepted (setting ContextLake:Limits:MaxAggregates)",
            Refusal("CREATE VIEW v AS SELECT to_account, COUNT(*) AS a, SUM(amount) AS b, MIN(amount) AS c, MAX(amount) AS d FROM transfer GROUP BY to_account").Message);
        Assert.Contains("2 views already read 'transfer'; at most 2 may (setting ContextLake:Limits:MaxViewsPerSource)",
            Refusal("CREATE VIEW v AS SELECT to_account, COUNT(*) AS n FROM transfer GROUP BY to_account", viewsOnSource: 2).Message);
        Assert.Contains("at most 200 are accepted (setting ContextLake:Limits:MaxViewSqlLength)",
            Refusal("CREATE VIEW v AS SELECT to_account, COUNT(*) AS n FROM transfer WHERE " + string.Join(" AND ", Enumerable.Range(0, 20).Select(i => $"amount > {i}")) + " GROUP BY to_account").Message);
    }

    [Fact]
    public void a_column_name_shorter_than_the_quoted_prefix_is_refused_whole_under_a_small_limit()
    {
        var tiny = new LimitOptions { MaxNameLength = 4 };
        var refusal = Assert.Throws<ViewDefinitionException>(() =>
            ViewSql.CheckLimits(ViewSql.Parse("CREATE VIEW v AS SELECT acct, COUNT(*) AS count FROM transfer GROUP BY acct"), tiny, 0));
        Assert.Contains("the column name 'count…' has 5 characters; at most 4 are accepted (setting ContextLake:Limits:MaxNameLength)", refusal.Message);
    }
}
