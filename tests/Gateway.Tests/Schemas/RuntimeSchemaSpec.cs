// Schemas declared at run time (PUT /v1/schemas/{type}) on one node with the sample configuration: a schema put is
// enforced on the next write (a wrong kind is a 400 naming events[i].data.field) and a new kind replaces the old; a
// change that takes away or retypes a column a view reads (a vector view's indexed field too), or deletes a schema a
// view reads, is a 409 naming the view and the column and changes nothing; new views are checked against the run-time
// schemas; bad input is a 400 naming the fault and declares nothing.
using System.Text.Json;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Schemas;

public sealed class RuntimeSchemaSpec(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private NodeProcess Node => fixture.Node;

    private static string Schema(object fields, string? mode = null) =>
        mode is null ? JsonSerializer.Serialize(new { fields }) : JsonSerializer.Serialize(new { fields, mode });

    private async Task<(int Status, string Detail)> Write(params object[] events)
    {
        var (status, body, _) = await Node.PostJson("v1/events", NodeClient.Events(events));
        return (status, status == 200 ? "" : body.GetProperty("detail").GetString()!);
    }

    [Fact]
    public async Task a_schema_put_is_enforced_on_the_next_write_and_a_new_kind_replaces_the_old()
    {
        var (created, schema) = await Node.PutJson("v1/schemas/probe_kinds", Schema(new { score = "number", label = "string" }));
        Assert.True(created == 201, schema.ToString());
        Assert.Equal("number", schema.GetProperty("fields").GetProperty("score").GetString());
        Assert.Equal("open", schema.GetProperty("mode").GetString());

        var refused = await Write(new { type = "probe_kinds", id = "a", data = new { score = 1 } }, new { type = "probe_kinds", id = "b", data = new { score = "lots" } });
        Assert.Equal((400, "events[1].data.score: probe_kinds.score is declared number (ContextLake:Schemas), but the value is a string, \"lots\""), refused);
        Assert.Equal(200, (await Write(new { type = "probe_kinds", id = "a", data = new { score = 1, other = "open takes it" } })).Status);

        var (replaced, _) = await Node.PutJson("v1/schemas/probe_kinds", Schema(new { score = "string", label = "string" }));
        Assert.Equal(200, replaced);
        Assert.Equal(200, (await Write(new { type = "probe_kinds", id = "b", data = new { score = "lots" } })).Status);
        Assert.Equal((400, "events[0].data.score: probe_kinds.score is declared string (ContextLake:Schemas), but the value is a number, 5"),
            await Write(new { type = "probe_kinds", id = "c", data = new { score = 5 } }));
        var (_, described) = await Node.GetJson("v1/schemas/probe_kinds");
        Assert.Equal("string", described.GetProperty("fields").GetProperty("score").GetString());

        // Strict: a field the schema does not declare is refused too.
        Assert.Equal(200, (await Node.PutJson("v1/schemas/probe_kinds", Schema(new { score = "string" }, "strict"))).Status);
        Assert.Equal((400, "events[0].data.label: probe_kinds.label is not declared (ContextLake:Schemas:probe_kinds) and probe_kinds is strict (ContextLake:SchemaModes:probe_kinds)"),
            await Write(new { type = "probe_kinds", id = "d", data = new { score = "x", label = "y" } }));
    }

    [Fact]
    public async Task a_change_that_takes_a_column_from_a_view_is_a_409_naming_view_and_column_and_changes_nothing()
    {
        var (_, before) = await Node.GetJson("v1/schemas/card_tx");

        var (removed, problem) = await Node.PutJson("v1/schemas/card_tx", Schema(new { card_id = "string", merchant_id = "string", country = "string" }));
        Assert.Equal(409, removed);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("view 'merchant_totals' reads card_tx.amount as number (the change removes it)", detail);
        Assert.Contains("view 'card_velocity' reads card_tx.amount as number (the change removes it)", detail);

        var (retyped, retypedProblem) = await Node.PutJson("v1/schemas/card_tx",
            Schema(new { card_id = "string", merchant_id = "string", country = "string", amount = "string" }));
        Assert.Equal(409, retyped);
        Assert.Contains("card_tx.amount as number (the change makes it string)", retypedProblem.GetProperty("detail").GetString());

        var (vector, vectorProblem) = await Node.PutJson("v1/schemas/merchant",
            Schema(new { name = "string", category = "string", risk = "number", embedding = "number" }));
        Assert.Equal(409, vector);
        Assert.Contains("view 'merchant_embeddings' reads merchant.embedding as vector of 4 dimensions (the field it indexes) (the change makes it number)",
            vectorProblem.GetProperty("detail").GetString());

        var (deleted, deleteProblem) = await Node.DeleteJson("v1/schemas/transfer");
        Assert.Equal(409, deleted);
        Assert.Contains("the schema of transfer cannot be deleted: view 'credits' reads transfer.to_account as string, transfer.amount as number",
            deleteProblem.GetProperty("detail").GetString());

        // Nothing changed: the schema reads the same, and a wrong amount is still refused.
        Assert.Equal(before.ToString(), (await Node.GetJson("v1/schemas/card_tx")).Body.ToString());
        Assert.Equal(400, (await Write(new { type = "card_tx", id = "x", data = new { amount = "lots" } })).Status);
        Assert.Equal(200, (await Node.GetJson("v1/schemas/transfer")).Status);
    }

    [Fact]
    public async Task adding_a_field_is_always_allowed_and_views_are_checked_against_the_run_time_schemas()
    {
        var (unknown, unknownProblem, _) = await Node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW probe_totals AS SELECT who, SUM(amount) AS total FROM probe_views WHERE amount > 0 GROUP BY who",
        }));
        Assert.Equal(400, unknown);
        Assert.Contains("unknown entity type 'probe_views'", unknownProblem.GetProperty("detail").GetString());

        Assert.Equal(201, (await Node.PutJson("v1/schemas/probe_views", Schema(new { who = "string", amount = "string" }))).Status);
        var (wrongKind, wrongKindProblem, _) = await Node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW probe_totals AS SELECT who, SUM(amount) AS total FROM probe_views GROUP BY who",
        }));
        Assert.Equal(400, wrongKind);
        Assert.Contains("aggregate SUM needs a number column, but probe_views.amount is string", wrongKindProblem.GetProperty("detail").GetString());

        Assert.Equal(200, (await Node.PutJson("v1/schemas/probe_views", Schema(new { who = "string", amount = "number" }))).Status);
        var (created, view, _) = await Node.PostJson("v1/views", JsonSerializer.Serialize(new
        {
            sql = "CREATE VIEW probe_totals AS SELECT who, SUM(amount) AS total FROM probe_views WHERE amount > 0 GROUP BY who",
        }));
        Assert.True(created is 201 or 202, view.ToString());

        // Adding a field is allowed while the view reads the type; removing one it reads is not, nor deleting the schema.
        Assert.Equal(200, (await Node.PutJson("v1/schemas/probe_views", Schema(new { who = "string", amount = "number", note = "string" }))).Status);
        var (removed, removedProblem) = await Node.PutJson("v1/schemas/probe_views", Schema(new { amount = "number", note = "string" }));
        Assert.Equal(409, removed);
        Assert.Contains("view 'probe_totals' reads probe_views.who as string (the change removes it)", removedProblem.GetProperty("detail").GetString());
        Assert.Equal(409, (await Node.DeleteJson("v1/schemas/probe_views")).Status);
        // A field no view reads may change kind.
        Assert.Equal(200, (await Node.PutJson("v1/schemas/probe_views", Schema(new { who = "string", amount = "number", note = "number" }))).Status);

        // Once the view is dropped the schema can go, and the type's events are taken as they come.
        Assert.Equal(200, (await Node.DeleteJson("v1/views/probe_totals")).Status);
        var (deleted, deletedSchema) = await Node.DeleteJson("v1/schemas/probe_views");
        Assert.True(deleted == 200, deletedSchema.ToString());
        Assert.Equal(404, (await Node.GetJson("v1/schemas/probe_views")).Status);
        Assert.Equal(200, (await Write(new { type = "probe_views", id = "a", data = new { amount = "anything" } })).Status);
        Assert.Equal(404, (await Node.DeleteJson("v1/schemas/probe_views")).Status);
    }

    public static TheoryData<string, string, string, string> BadInput() => new()
    {
        { "an unknown kind", "probe_bad", """{"fields": {"amount": "money"}}""", "fields.amount: 'money' is not one of number, string, boolean, time, vector" },
        { "a kind that is not a word", "probe_bad", """{"fields": {"amount": 5}}""", "fields.amount: '5' is not one of number, string, boolean, time, vector" },
        { "a bad type name", "bad%20type", """{"fields": {"amount": "number"}}""", "type 'bad type' must be 1 to 64 letters, digits, '_', '-' or '.'" },
        { "a too-long type name", new string('t', 65), """{"fields": {"amount": "number"}}""",
            "the type name 'tttttttttttttttt…' has 65 characters; at most 64 are accepted (setting ContextLake:Limits:MaxNameLength)" },
        { "a bad field name", "probe_bad", """{"fields": {"a.b": "number"}}""", "fields.a.b: a field name is 1 or more letters, digits, '_' or '-'" },
        { "a too-long field name", "probe_bad", "{\"fields\": {\"" + new string('f', 100) + "\": \"number\"}}",
            "fields: the field name 'ffffffffffffffff…' has 100 characters; at most 64 are accepted (setting ContextLake:Limits:MaxNameLength)" },
        { "a field given twice", "probe_bad", """{"fields": {"a": "number", "a": "string"}}""", "fields.a is given twice" },
        { "an unknown mode", "probe_bad", """{"fields": {}, "mode": "loose"}""", "mode 'loose' is not one of open, strict" },
        { "no fields", "probe_bad", """{"mode": "strict"}""", "fields is required" },
        { "a misspelt property", "probe_bad", """{"fields": {}, "mood": "open"}""", "mood is not a field of a schema (fields, mode)" },
        { "not an object", "probe_bad", """[1]""", "the body must be a JSON object" },
        { "malformed JSON", "probe_bad", """{"fields": {"a": "number",}}""", "the body is not valid JSON at line 1" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task bad_input_is_a_400_naming_the_fault_and_declares_nothing(string _, string type, string body, string detail)
    {
        var (status, problem) = await Node.PutJson($"v1/schemas/{type}", body);
        Assert.Equal(400, status);
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        var (_, all) = await Node.GetJson("v1/schemas");
        Assert.DoesNotContain(all.EnumerateArray(), s => s.GetProperty("type").GetString() is "probe_bad" or "bad type" || s.GetProperty("type").GetString()!.Length > 64);
    }

    [Fact]
    public async Task the_configured_schemas_are_listed_and_the_openapi_document_describes_the_endpoints()
    {
        var (status, all) = await Node.GetJson("v1/schemas");
        Assert.Equal(200, status);
        Assert.Contains(all.EnumerateArray(), s => s.GetProperty("type").GetString() == "account" && s.GetProperty("fields").GetProperty("balance").GetString() == "number");
        var (_, unknown) = await Node.GetJson("v1/schemas/nope");
        Assert.Contains("there is no schema for type 'nope' (schemas: account, ", unknown.GetProperty("detail").GetString());

        var (_, doc) = await Node.GetJson("openapi/v1.json");
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/schemas", out _));
        Assert.True(paths.GetProperty("/v1/schemas/{type}").TryGetProperty("put", out var put));
        Assert.True(put.TryGetProperty("requestBody", out _));
    }
}
