using System.Text.Json;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using Xunit;

namespace ContextLake.Views.Tests.Sql;

public sealed class RowPredicateSpecs
{
    private static Expr Where(string condition) =>
        ViewSql.Parse($"CREATE VIEW v AS SELECT k, COUNT(*) FROM t WHERE {condition} GROUP BY k").Where!;

    private static bool Matches(string condition, string row)
    {
        var data = JsonDocument.Parse(row).RootElement;
        return RowPredicate.Matches(Where(condition), c => data.TryGetProperty(c, out var v) ? v : null);
    }

    [Theory]
    [InlineData("amount > 5", """{"amount": 6}""", true)]
    [InlineData("amount > 5", """{"amount": 5}""", false)]
    [InlineData("amount >= 5", """{"amount": 5.0}""", true)]
    [InlineData("amount = 5", """{"amount": 5.00}""", true)]
    [InlineData("amount <> 5", """{"amount": 4}""", true)]
    [InlineData("amount != 5", """{"amount": 5}""", false)]
    [InlineData("amount < -1.5", """{"amount": -2}""", true)]
    [InlineData("note = 'a'", """{"note": "a"}""", true)]
    [InlineData("note < 'b'", """{"note": "B"}""", true)]
    [InlineData("flag = TRUE", """{"flag": true}""", true)]
    [InlineData("flag", """{"flag": true}""", true)]
    [InlineData("flag", """{"flag": false}""", false)]
    public void comparisons_follow_the_value_types(string condition, string row, bool expected) =>
        Assert.Equal(expected, Matches(condition, row));

    [Theory]
    [InlineData("amount > 5", """{}""")]
    [InlineData("amount > 5", """{"amount": null}""")]
    [InlineData("amount <> 5", """{}""")]
    [InlineData("NOT amount > 5", """{}""")]
    [InlineData("amount = NULL", """{"amount": null}""")]
    [InlineData("amount = 'five'", """{"amount": 5}""")]
    [InlineData("NOT amount = 'five'", """{"amount": 5}""")]
    [InlineData("amount > 5", """{"amount": {"value": 6}}""")]
    [InlineData("flag", """{"flag": "yes"}""")]
    public void a_comparison_with_null_missing_or_mismatched_values_never_matches(string condition, string row) =>
        Assert.False(Matches(condition, row));

    [Theory]
    [InlineData("a = 1 AND b = 1", true)]
    [InlineData("a = 1 AND b = 2", false)]
    [InlineData("a = 1 AND c = 1", false)]
    [InlineData("NOT (a = 2 AND c = 1)", true)]
    [InlineData("NOT (a = 1 AND c = 1)", false)]
    [InlineData("a = 2 OR b = 1", true)]
    [InlineData("c = 1 OR a = 1", true)]
    [InlineData("c = 1 OR a = 2", false)]
    [InlineData("NOT (c = 1 OR a = 2)", false)]
    [InlineData("NOT a = 2", true)]
    [InlineData("NOT NOT a = 1", true)]
    public void and_or_and_not_use_three_valued_logic(string condition, bool expected) =>
        Assert.Equal(expected, Matches(condition, """{"a": 1, "b": 1}"""));

    [Theory]
    [InlineData("a IS NULL", """{}""", true)]
    [InlineData("a IS NULL", """{"a": null}""", true)]
    [InlineData("a IS NULL", """{"a": 0}""", false)]
    [InlineData("a IS NOT NULL", """{"a": ""}""", true)]
    [InlineData("a IS NOT NULL", """{"a": [1]}""", true)]
    [InlineData("a IS NOT NULL", """{}""", false)]
    public void null_tests_see_missing_and_null_alike(string condition, string row, bool expected) =>
        Assert.Equal(expected, Matches(condition, row));

    [Theory]
    [InlineData("a IN (1, 2)", """{"a": 2}""", true)]
    [InlineData("a IN (1, 2)", """{"a": 3}""", false)]
    [InlineData("a IN (1, 2)", """{}""", false)]
    [InlineData("a IN ('x', 'y')", """{"a": "y"}""", true)]
    [InlineData("a NOT IN (1, 2)", """{"a": 3}""", true)]
    [InlineData("a NOT IN (1, 2)", """{"a": 2}""", false)]
    [InlineData("a NOT IN (1, 2)", """{}""", false)]
    [InlineData("a IN (1, NULL)", """{"a": 1}""", true)]
    [InlineData("a IN (1, NULL)", """{"a": 3}""", false)]
    [InlineData("a NOT IN (1, NULL)", """{"a": 3}""", false)]
    [InlineData("NOT a IN (1, NULL)", """{"a": 3}""", false)]
    public void membership_is_unknown_when_a_null_could_have_matched(string condition, string row, bool expected) =>
        Assert.Equal(expected, Matches(condition, row));

    [Theory]
    [InlineData("t > '2026-11-24T09:00:00Z'", """{"t": "2026-11-24T10:00:00.0000000Z"}""", true)]
    [InlineData("t = '2026-11-24T11:00:00+01:00'", """{"t": "2026-11-24T10:00:00.0000000Z"}""", true)]
    [InlineData("t < '2026-11-24'", """{"t": "2026-11-24T10:00:00Z"}""", false)]
    [InlineData("t > '10'", """{"t": "9"}""", true)]
    public void timestamps_compare_as_instants_and_other_strings_ordinally(string condition, string row, bool expected) =>
        Assert.Equal(expected, Matches(condition, row));
}
