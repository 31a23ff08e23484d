using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using Xunit;

namespace ContextLake.Views.Tests.Sql;

public sealed class ViewSqlParseSpecs
{
    private static ViewDefinitionException Rejects(string sql) => Assert.Throws<ViewDefinitionException>(() => ViewSql.Parse(sql));

    [Fact]
    public void a_keyed_sum_and_count_parse_into_the_definition()
    {
        const string sql = "CREATE VIEW credits AS SELECT to_account, SUM(amount) AS total, COUNT(*) AS n FROM transfer GROUP BY to_account";

        var view = ViewSql.Parse(sql);

        Assert.Equal("credits", view.Name);
        Assert.Equal("transfer", view.Source);
        Assert.Equal("to_account", view.KeyColumn);
        Assert.Equal("to_account", view.KeyAlias);
        Assert.Equal(
            [new AggregateColumn(AggregateFunction.Sum, "amount", "total"), new AggregateColumn(AggregateFunction.Count, null, "n")],
            view.Aggregates);
        Assert.Null(view.Where);
        Assert.Null(view.Window);
        Assert.Equal(sql, view.Sql);
    }

    [Fact]
    public void a_hopping_window_with_lateness_and_a_filter_parse_into_the_definition()
    {
        var view = ViewSql.Parse(
            "CREATE VIEW card_velocity AS SELECT card_id, COUNT(*) AS n, SUM(amount) AS total FROM card_tx WHERE amount > 0 GROUP BY card_id WINDOW HOPPING(10m, 1m) ALLOWED LATENESS 30s");

        Assert.Equal("card_tx", view.Source);
        Assert.Equal("card_id", view.KeyColumn);
        Assert.Equal(new HoppingWindow(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1)) { AllowedLateness = TimeSpan.FromSeconds(30) }, view.Window);
        var where = Assert.IsType<Binary>(view.Where);
        Assert.Equal(">", where.Op);
        Assert.Equal(new ColumnRef("amount", 1, 101), where.Left);
        Assert.Equal(new Literal(0m, 1, 110), where.Right);
        Assert.Equal((1, 101), (where.Line, where.Column));
    }

    [Fact]
    public void keywords_are_case_insensitive_and_a_trailing_semicolon_and_surrounding_space_are_dropped()
    {
        var view = ViewSql.Parse("  create view v as select k as key, count(*) from t group by k window tumbling(1h);\n");

        Assert.Equal("k", view.KeyColumn);
        Assert.Equal("key", view.KeyAlias);
        Assert.Equal(new TumblingWindow(TimeSpan.FromHours(1)), view.Window);
        Assert.Equal("create view v as select k as key, count(*) from t group by k window tumbling(1h);", view.Sql);
    }

    [Fact]
    public void aggregates_without_an_alias_are_named_after_the_function_and_column()
    {
        var view = ViewSql.Parse(
            "CREATE VIEW v AS SELECT k, COUNT(*), COUNT(x), COUNT(DISTINCT y), SUM(a), MIN(a), MAX(a), AVG(a), LAST(a) FROM t GROUP BY k");

        Assert.Equal(
            [
                new AggregateColumn(AggregateFunction.Count, null, "count"),
                new AggregateColumn(AggregateFunction.Count, "x", "count_x"),
                new AggregateColumn(AggregateFunction.CountDistinct, "y", "count_distinct_y"),
                new AggregateColumn(AggregateFunction.Sum, "a", "sum_a"),
                new AggregateColumn(AggregateFunction.Min, "a", "min_a"),
                new AggregateColumn(AggregateFunction.Max, "a", "max_a"),
                new AggregateColumn(AggregateFunction.Avg, "a", "avg_a"),
                new AggregateColumn(AggregateFunction.Last, "a", "last_a"),
            ],
            view.Aggregates);
    }

    [Fact]
    public void session_windows_and_quoted_durations_are_accepted()
    {
        var view = ViewSql.Parse("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW SESSION('10 minutes') ALLOWED LATENESS 500ms");

        Assert.Equal(new SessionWindow(TimeSpan.FromMinutes(10)) { AllowedLateness = TimeSpan.FromMilliseconds(500) }, view.Window);
    }

    [Fact]
    public void double_quoted_identifiers_may_be_reserved_words_and_function_names_may_be_columns()
    {
        var view = ViewSql.Parse("""CREATE VIEW "select" AS SELECT count, SUM("from") AS "group" FROM t GROUP BY count""");

        Assert.Equal("select", view.Name);
        Assert.Equal("count", view.KeyColumn);
        Assert.Equal([new AggregateColumn(AggregateFunction.Sum, "from", "group")], view.Aggregates);
    }

    [Fact]
    public void not_binds_tighter_than_and_which_binds_tighter_than_or()
    {
        var view = ViewSql.Parse("CREATE VIEW v AS SELECT k, COUNT(*) FROM t WHERE NOT a = 1 AND b = 2 OR c = 3 GROUP BY k");

        var or = Assert.IsType<Binary>(view.Where);
        Assert.Equal("OR", or.Op);
        var and = Assert.IsType<Binary>(or.Left);
        Assert.Equal("AND", and.Op);
        var not = Assert.IsType<Not>(and.Left);
        Assert.Equal((1, 50), (not.Line, not.Column));
        Assert.Equal("=", Assert.IsType<Binary>(not.Operand).Op);
    }

    [Fact]
    public void parentheses_null_tests_membership_and_literals_parse()
    {
        var view = ViewSql.Parse(
            "CREATE VIEW v AS SELECT k, COUNT(*) FROM t WHERE (a IS NOT NULL OR b IS NULL) AND c NOT IN ('x', 'it''s', -1.5, TRUE, NULL) AND d != FALSE GROUP BY k");

        var and = Assert.IsType<Binary>(view.Where);
        var inner = Assert.IsType<Binary>(and.Left);
        Assert.Equal("AND", inner.Op);
        var or = Assert.IsType<Binary>(inner.Left);
        Assert.Equal("OR", or.Op);
        Assert.True(Assert.IsType<IsNull>(or.Left).Negated);
        Assert.False(Assert.IsType<IsNull>(or.Right).Negated);
        var inList = Assert.IsType<InList>(inner.Right);
        Assert.True(inList.Negated);
        Assert.Equal(["x", "it's", -1.5m, true, null], inList.Items.Select(i => Assert.IsType<Literal>(i).Value));
        var notEqual = Assert.IsType<Binary>(and.Right);
        Assert.Equal("<>", notEqual.Op);
        Assert.Equal(false, Assert.IsType<Literal>(notEqual.Right).Value);
    }

    [Fact]
    public void a_misspelt_keyword_is_reported_at_its_line_and_column()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FORM t GROUP BY k");

        Assert.Equal("line 1, column 37: expected FROM, found 'FORM'", error.Message);
        Assert.Equal((1, 37), (error.Line, error.Column));
    }

    [Fact]
    public void an_error_on_the_third_line_is_reported_at_that_line_and_column()
    {
        var error = Rejects("CREATE VIEW v AS\nSELECT k, COUNT(*) AS n\nFROM t WHERE amount >> 5\nGROUP BY k");

        Assert.Equal((3, 22), (error.Line, error.Column));
        Assert.Equal("expected column, literal or '(', found '>'", error.Reason);
    }

    [Fact]
    public void an_unfinished_statement_says_it_found_the_end_of_input()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY");

        Assert.Equal("line 1, column 52: expected column, found end of input", error.Message);
    }

    [Fact]
    public void text_after_the_statement_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k; DROP");

        Assert.Equal("line 1, column 56: expected end of statement, found 'DROP'", error.Message);
    }

    [Fact]
    public void a_stray_character_and_an_unterminated_string_are_reported_where_they_start()
    {
        Assert.Equal("line 2, column 3: unexpected character '@'", Rejects("CREATE VIEW v AS\n  @").Message);
        Assert.Equal("line 1, column 54: unterminated string literal",
            Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t WHERE a = 'x GROUP BY k").Message);
    }

    [Fact]
    public void a_duration_with_an_unknown_unit_is_reported_as_a_whole_word()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW TUMBLING(10min)");

        Assert.Equal("line 1, column 71: '10min' is neither a number nor a duration (a whole number followed by ms, s, m, h or d)", error.Message);
    }

    [Fact]
    public void a_misspelt_window_kind_lists_the_kinds()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW TUMBLE(1m)");

        Assert.Equal("line 1, column 62: expected TUMBLING, HOPPING or SESSION, found 'TUMBLE'", error.Message);
    }

    [Fact]
    public void line_comments_are_ignored()
    {
        var view = ViewSql.Parse("CREATE VIEW v AS -- per key\nSELECT k, COUNT(*) FROM t GROUP BY k -- done");

        Assert.Equal("k", view.KeyColumn);
    }

    [Fact]
    public void a_reserved_word_is_not_a_name()
    {
        Assert.Equal("line 1, column 13: expected view name, found 'select'", Rejects("CREATE VIEW select AS SELECT k, COUNT(*) FROM t GROUP BY k").Message);
    }

    [Fact]
    public void the_group_by_column_must_be_selected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT COUNT(*) FROM t GROUP BY k");

        Assert.Equal("line 1, column 50: GROUP BY column k must appear in SELECT", error.Message);
    }

    [Fact]
    public void the_group_by_column_may_be_selected_only_once()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, k AS k2, COUNT(*) FROM t GROUP BY k");

        Assert.Equal("line 1, column 28: GROUP BY column k appears more than once in SELECT", error.Message);
    }

    [Fact]
    public void a_plain_column_other_than_the_key_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, x, COUNT(*) FROM t GROUP BY k");

        Assert.Equal("line 1, column 28: column x must appear in GROUP BY or inside an aggregate", error.Message);
    }

    [Fact]
    public void duplicate_aliases_are_rejected_at_the_second_one()
    {
        var explicitAlias = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) AS n, SUM(a) AS n FROM t GROUP BY k");
        var defaultAlias = Rejects("CREATE VIEW v AS SELECT k, SUM(a), SUM(a) FROM t GROUP BY k");

        Assert.Equal("line 1, column 53: duplicate column name n in SELECT; give one of them another name with AS", explicitAlias.Message);
        Assert.Equal((1, 36), (defaultAlias.Line, defaultAlias.Column));
    }

    [Fact]
    public void a_select_list_without_an_aggregate_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k FROM t GROUP BY k");

        Assert.Equal("line 1, column 18: SELECT needs at least one aggregate (COUNT, SUM, MIN, MAX, AVG or LAST)", error.Message);
    }

    [Fact]
    public void a_zero_window_duration_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW TUMBLING(0s)");

        Assert.Equal("line 1, column 71: a window duration must be greater than zero, found 0s", error.Message);
    }

    [Fact]
    public void a_hopping_slide_larger_than_its_size_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW HOPPING(1m, 5m)");

        Assert.Equal("line 1, column 74: HOPPING slide 5m is larger than its size 1m", error.Message);
    }

    [Fact]
    public void a_hopping_size_that_is_not_a_multiple_of_its_slide_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW HOPPING(10m, 3m)");

        Assert.Equal("line 1, column 70: HOPPING size 10m is not a multiple of its slide 3m", error.Message);
    }

    [Fact]
    public void allowed_lateness_without_a_window_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k ALLOWED LATENESS 5s");

        Assert.Equal("line 1, column 55: ALLOWED LATENESS needs a WINDOW clause before it", error.Message);
    }

    [Fact]
    public void a_string_that_is_not_a_duration_is_rejected_where_a_duration_belongs()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM t GROUP BY k WINDOW TUMBLING('soon')");

        Assert.Equal("line 1, column 71: expected a duration such as 10m or '10 minutes', found ''soon''", error.Message);
    }

    [Fact]
    public void sum_of_star_is_rejected_at_the_star()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, SUM(*) FROM t GROUP BY k");

        Assert.Equal("line 1, column 32: expected column, found '*'", error.Message);
    }
}
