using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using Xunit;

namespace ContextLake.Views.Tests.Sql;

public sealed class ViewSqlValidateSpecs
{
    private static readonly EntitySchemas Schemas = new(new Dictionary<string, IReadOnlyDictionary<string, ColumnType>>
    {
        ["transfer"] = new Dictionary<string, ColumnType>
        {
            ["to_account"] = ColumnType.String,
            ["amount"] = ColumnType.Number,
            ["note"] = ColumnType.String,
            ["flagged"] = ColumnType.Boolean,
            ["settled_at"] = ColumnType.Time,
        },
        ["card_tx"] = new Dictionary<string, ColumnType> { ["card_id"] = ColumnType.String, ["amount"] = ColumnType.Number },
    });

    private static ViewDefinitionException Rejects(string sql) =>
        Assert.Throws<ViewDefinitionException>(() => ViewSql.Validate(ViewSql.Parse(sql), Schemas));

    [Fact]
    public void a_view_over_declared_columns_is_accepted()
    {
        ViewSql.Validate(ViewSql.Parse("""
            CREATE VIEW credits AS
            SELECT to_account, SUM(amount) AS total, MIN(note) AS first_note, MAX(event_time) AS latest, COUNT(DISTINCT entity_id) AS senders
            FROM transfer
            WHERE amount > 0 AND kind = 'event' AND NOT flagged AND settled_at >= '2026-01-01T00:00:00Z' AND note IN ('a', NULL)
            GROUP BY to_account
            """), Schemas);
    }

    [Fact]
    public void an_unknown_entity_type_lists_the_known_ones()
    {
        var error = Rejects("CREATE VIEW v AS SELECT k, COUNT(*) FROM transfers GROUP BY k");

        Assert.Equal("line 1, column 42: unknown entity type 'transfers' after FROM; known types: card_tx, transfer", error.Message);
    }

    [Fact]
    public void an_unknown_key_column_lists_the_columns_of_the_type()
    {
        var error = Rejects("CREATE VIEW v AS SELECT account, COUNT(*) FROM transfer GROUP BY account");

        Assert.Equal(
            "line 1, column 66: unknown column 'account' on transfer; its columns are: amount, flagged, note, settled_at, to_account, event_time, entity_id, kind",
            error.Message);
    }

    [Fact]
    public void an_unknown_aggregate_argument_is_reported_at_the_argument()
    {
        var error = Rejects("CREATE VIEW v AS SELECT to_account, SUM(amout) FROM transfer GROUP BY to_account");

        Assert.Equal((1, 41), (error.Line, error.Column));
        Assert.StartsWith("unknown column 'amout' on transfer", error.Reason);
    }

    [Fact]
    public void an_unknown_column_in_where_is_reported_on_its_line()
    {
        var error = Rejects("CREATE VIEW v AS\nSELECT to_account, COUNT(*)\nFROM transfer\nWHERE amount > 0 AND colour = 'red'\nGROUP BY to_account");

        Assert.Equal((4, 22), (error.Line, error.Column));
        Assert.StartsWith("unknown column 'colour' on transfer", error.Reason);
    }

    [Fact]
    public void sum_of_a_string_column_is_rejected()
    {
        var error = Rejects("CREATE VIEW v AS SELECT to_account, SUM(note) AS total FROM transfer GROUP BY to_account");

        Assert.Equal("line 1, column 41: aggregate SUM needs a number column, but transfer.note is string", error.Message);
    }

    [Fact]
    public void avg_of_a_time_and_max_of_a_boolean_are_rejected()
    {
        Assert.Equal("aggregate AVG needs a number column, but transfer.event_time is time",
            Rejects("CREATE VIEW v AS SELECT to_account, AVG(event_time) FROM transfer GROUP BY to_account").Reason);
        Assert.Equal("aggregate MAX needs a number, string or time column, but transfer.flagged is boolean",
            Rejects("CREATE VIEW v AS SELECT to_account, MAX(flagged) FROM transfer GROUP BY to_account").Reason);
    }

    [Fact]
    public void comparing_a_number_column_with_a_string_is_reported_at_the_string()
    {
        var error = Rejects("CREATE VIEW v AS SELECT to_account, COUNT(*) FROM transfer WHERE amount = 'abc' GROUP BY to_account");

        Assert.Equal("line 1, column 75: cannot compare transfer.amount (number) with 'abc' (string)", error.Message);
    }

    [Fact]
    public void membership_items_must_fit_the_column_type()
    {
        var error = Rejects("CREATE VIEW v AS SELECT to_account, COUNT(*) FROM transfer WHERE note NOT IN ('a', 5) GROUP BY to_account");

        Assert.Equal("line 1, column 84: cannot compare transfer.note (string) with 5 (number)", error.Message);
    }

    [Fact]
    public void a_time_column_compares_only_with_timestamps()
    {
        var error = Rejects("CREATE VIEW v AS SELECT to_account, COUNT(*) FROM transfer WHERE event_time > 'yesterday' GROUP BY to_account");

        Assert.Equal("line 1, column 79: transfer.event_time is time, but 'yesterday' is not a timestamp", error.Message);
    }

    [Fact]
    public void a_non_boolean_column_is_not_a_condition()
    {
        var error = Rejects("CREATE VIEW v AS SELECT to_account, COUNT(*) FROM transfer WHERE amount GROUP BY to_account");

        Assert.Equal("line 1, column 66: WHERE needs a true/false condition, but transfer.amount is number", error.Message);
    }

    [Fact]
    public void a_definition_copied_without_its_parse_still_reports_positions()
    {
        var view = ViewSql.Parse("CREATE VIEW v AS SELECT to_account, COUNT(*) FROM transfers GROUP BY to_account") with { };

        var error = Assert.Throws<ViewDefinitionException>(() => ViewSql.Validate(view, Schemas));

        Assert.Equal((1, 51), (error.Line, error.Column));
    }
}
