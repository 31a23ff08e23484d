// The schemas API: declare (create or replace) an entity type's schema, list, describe, delete. A schema lives in the
// view catalog beside the views, which orders every change: one that takes away or retypes a column a view reads is
// refused (409 naming the view and the column). A change answers once the catalog has journaled it and this node's
// replica holds it, so this node's writes meet it from then on; other nodes get it from the catalog's publication.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Catalog;

namespace ContextLake.Gateway.Schemas;

/// <summary>The body of PUT /v1/schemas/{type}: field → number | string | boolean | time | vector, and open (the default) or strict.</summary>
public sealed record PutSchemaDoc(IReadOnlyDictionary<string, string> Fields, string? Mode);

public sealed record SchemaDoc(string Type, IReadOnlyDictionary<string, string> Fields, string Mode)
{
    public static SchemaDoc From(SchemaEntry s) => new(s.Type, s.Fields, s.Mode);
}

public static class SchemaEndpoints
{
    private static readonly TimeSpan ReplicaWait = TimeSpan.FromSeconds(5);

    public static void MapSchemaEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/schemas/{type}", Put).WithName("PutSchema")
            .WithSummary("Declare an entity type's schema (create or replace): each field's kind, and whether undeclared fields are refused (strict).")
            .DocumentsBody<PutSchemaDoc>()
            .Produces<SchemaDoc>(StatusCodes.Status201Created).Produces<SchemaDoc>().Produces<SchemaDoc>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/schemas", (ViewCatalog catalog) => Results.Ok(catalog.Schemas.ByType.Values.Select(SchemaDoc.From)))
            .WithName("ListSchemas").WithSummary("The entity schemas this node enforces.").Produces<IEnumerable<SchemaDoc>>();
        app.MapGet("/v1/schemas/{type}", (string type, ViewCatalog catalog) =>
                catalog.Schemas.ByType.TryGetValue(type, out var s) ? Results.Ok(SchemaDoc.From(s)) : UnknownSchema(type, catalog).ToResult())
            .WithName("DescribeSchema").Produces<SchemaDoc>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapDelete("/v1/schemas/{type}", Delete).WithName("DeleteSchema")
            .WithSummary("Delete an entity type's schema: its events are then taken as they come (unless ContextLake:UndeclaredTypes is refuse).")
            .Produces<SchemaDoc>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> Put(string type, HttpRequest request, ViewCatalog catalog, NodeOptions options,
        IRequiredActor<ViewCatalogKey> catalogActor, CancellationToken cancel)
    {
        SchemaEntry schema;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel);
            schema = Read(type, doc.RootElement, options.Limits);
        }
        catch (JsonException ex)
        {
            return Problem.MalformedJson(ex).ToResult();
        }
        catch (InvalidSchemaException ex)
        {
            return Problem.BadRequest("Invalid schema", ex.Message).ToResult();
        }

        var reply = await catalogActor.ActorRef.Ask<SchemaCatalogReply>(new PutSchema(schema), TimeSpan.FromSeconds(10), cancel);
        if (reply.Outcome == SchemaOutcome.InUse)
            return new Problem(StatusCodes.Status409Conflict, "Schema in use", reply.Detail!).ToResult();
        var location = $"/v1/schemas/{type}";
        var body = SchemaDoc.From(reply.Schema!);
        if (!await ReplicaReachesAsync(catalog, reply.Version, cancel)) return Results.Accepted(location, body);
        return reply.Outcome == SchemaOutcome.Created ? Results.Created(location, body) : Results.Ok(body);
    }

    private static async Task<IResult> Delete(string type, ViewCatalog catalog, IRequiredActor<ViewCatalogKey> catalogActor, CancellationToken cancel)
    {
        var reply = await catalogActor.ActorRef.Ask<SchemaCatalogReply>(new DeleteSchema(type), TimeSpan.FromSeconds(10), cancel);
        return reply.Outcome switch
        {
            SchemaOutcome.Unknown => UnknownSchema(type, catalog).ToResult(),
            SchemaOutcome.InUse => new Problem(StatusCodes.Status409Conflict, "Schema in use", reply.Detail!).ToResult(),
            _ => await ReplicaReachesAsync(catalog, reply.Version, cancel)
                ? Results.Ok(SchemaDoc.From(reply.Schema!))
                : Results.Accepted($"/v1/schemas/{type}", SchemaDoc.From(reply.Schema!)),
        };
    }

    /// <summary>Waits (a few seconds at most) until this node's replica holds catalog version <paramref name="version"/>.</summary>
    private static async Task<bool> ReplicaReachesAsync(ViewCatalog catalog, long version, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + ReplicaWait;
        while (catalog.Version < version && DateTime.UtcNow < deadline) await Task.Delay(5, cancel);
        return catalog.Version >= version;
    }

    /// <summary>The schema a PUT body declares for <paramref name="type"/>; throws naming the first fault.</summary>
    private static SchemaEntry Read(string type, JsonElement body, LimitOptions limits)
    {
        if (limits.NameTooLong("type", type) is { } typeTooLong)
            throw new InvalidSchemaException(typeTooLong);
        if (!Names.IsValid(type))
            throw new InvalidSchemaException($"type '{Quote(type)}' must be {Names.Rule}");
        if (body.ValueKind != JsonValueKind.Object)
            throw new InvalidSchemaException("the body must be a JSON object: {\"fields\": {\"amount\": \"number\", …}, \"mode\": \"open\" | \"strict\"}");
        JsonElement? fieldsElement = null;
        var mode = "open";
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "fields":
                    fieldsElement = property.Value;
                    break;
                case "mode":
                    mode = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                    if (!EventAdmission.Modes.Contains(mode))
                        throw new InvalidSchemaException($"mode '{Quote(mode)}' is not one of {string.Join(", ", EventAdmission.Modes)}");
                    break;
                default:
                    throw new InvalidSchemaException($"{Quote(property.Name)} is not a field of a schema (fields, mode)");
            }
        }
        if (fieldsElement is not { ValueKind: JsonValueKind.Object } fields)
            throw new InvalidSchemaException("fields is required: an object of field → number, string, boolean, time or vector");
        var declared = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields.EnumerateObject())
        {
            var name = field.Name;
            if (!IsFieldName(name))
                throw new InvalidSchemaException($"fields.{Quote(name)}: a field name is 1 or more letters, digits, '_' or '-'");
            if (limits.NameTooLong("field", name) is { } fieldTooLong)
                throw new InvalidSchemaException("fields: " + fieldTooLong);
            var kind = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : field.Value.GetRawText();
            if (!EventAdmission.Kinds.Contains(kind))
                throw new InvalidSchemaException($"fields.{name}: '{Quote(kind)}' is not one of {string.Join(", ", EventAdmission.Kinds)}");
            if (!declared.TryAdd(name, kind))
                throw new InvalidSchemaException($"fields.{name} is given twice");
        }
        return SchemaEntry.Of(type, declared, mode);
    }

    // Top-level data fields only: '.' would make a refusal's path (events[0].data.a.b) ambiguous.
    private static bool IsFieldName(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>Text from the request as a refusal quotes it: at most 64 characters.</summary>
    private static string Quote(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static Problem UnknownSchema(string type, ViewCatalog catalog) => new(StatusCodes.Status404NotFound, "Unknown schema",
        $"there is no schema for type '{Quote(type)}' (schemas: {string.Join(", ", catalog.Schemas.ByType.Keys)})");

    private sealed class InvalidSchemaException(string message) : Exception(message);
}
