// Which schema changes the view catalog refuses: taking away or retyping a column a view reads (its group key, an
// aggregate's argument, a column of its WHERE, a vector view's indexed field), or deleting a schema a view reads;
// adding fields, changing ones no view reads, built-in columns and a type that had no schema are never in the way.
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using Xunit;

namespace ContextLake.Views.Tests.Catalog;

public sealed class SchemaChangesSpecs
{
    private static readonly SchemaEntry CardTx = SchemaEntry.Of("card_tx", new Dictionary<string, string>
    {
        ["card_id"] = "string", ["merchant_id"] = "string", ["amount"] = "number", ["country"] = "string", ["embedding"] = "vector", ["note"] = "string",
    }, "open");

    private static readonly (string, ViewDefinition)[] Views =
    [
        ("totals", ViewSql.Parse("CREATE VIEW totals AS SELECT merchant_id, SUM(amount) AS total FROM card_tx WHERE country = 'NL' GROUP BY merchant_id")),
        ("near", ViewSql.Parse("CREATE VECTOR VIEW near AS SELECT embedding FROM card_tx WITH (dimensions = 3)")),
        ("by_kind", ViewSql.Parse("CREATE VIEW by_kind AS SELECT kind, COUNT(*) AS n FROM card_tx GROUP BY kind")),
        ("elsewhere", ViewSql.Parse("CREATE VIEW elsewhere AS SELECT card_id, COUNT(*) AS n FROM other GROUP BY card_id")),
    ];

    private static string? Change(Dictionary<string, string> fields) =>
        SchemaChanges.Conflict("card_tx", CardTx, SchemaEntry.Of("card_tx", fields, "open"), Views);

    private static Dictionary<string, string> Without(string field) =>
        CardTx.Fields.Where(f => f.Key != field).ToDictionary(f => f.Key, f => f.Value);

    private static Dictionary<string, string> With(string field, string kind) =>
        new(CardTx.Fields) { [field] = kind };

    [Fact]
    public void the_columns_a_view_reads_are_its_key_its_arguments_and_its_where_without_built_ins() =>
        Assert.Equal(["merchant_id", "amount", "country"], SchemaChanges.ColumnsRead(Views[0].Item2));

    [Fact]
    public void adding_a_field_changing_one_no_view_reads_or_a_type_without_a_schema_is_never_in_the_way()
    {
        Assert.Null(Change(With("channel", "string")));
        Assert.Null(Change(With("note", "number")));
        Assert.Null(Change(Without("note")));
        Assert.Null(SchemaChanges.Conflict("card_tx", null, SchemaEntry.Of("card_tx", [], "strict"), Views));
        Assert.Null(SchemaChanges.Conflict("card_tx", CardTx, SchemaEntry.Of("card_tx", CardTx.Fields, "strict"), Views));
    }

    [Fact]
    public void removing_or_retyping_a_column_a_view_reads_names_the_view_and_the_column()
    {
        Assert.Equal("the schema of card_tx cannot change so: view 'totals' reads card_tx.country as string (the change removes it); " +
                     "drop the view first, or keep the column as it is", Change(Without("country")));
        Assert.Contains("view 'totals' reads card_tx.amount as number (the change makes it string)", Change(With("amount", "string")));
        Assert.Contains("view 'near' reads card_tx.embedding as vector of 3 dimensions (the field it indexes) (the change removes it)", Change(Without("embedding")));
    }

    [Fact]
    public void deleting_a_schema_a_view_reads_names_every_such_view()
    {
        Assert.Equal("the schema of card_tx cannot be deleted: view 'by_kind' reads card_tx; " +
                     "view 'near' reads card_tx.embedding as vector of 3 dimensions (the field it indexes); " +
                     "view 'totals' reads card_tx.merchant_id as string, card_tx.amount as number, card_tx.country as string; drop the view first",
            SchemaChanges.Conflict("card_tx", CardTx, null, Views));
        Assert.Null(SchemaChanges.Conflict("account", SchemaEntry.Of("account", [], "open"), null, Views));
    }
}
