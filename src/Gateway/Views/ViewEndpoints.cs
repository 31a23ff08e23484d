// The views API: create (parsed and checked, 400 naming line and column), list, describe (status and
// backfill progress), drop.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Hosting;
using ContextLake.Views.Catalog;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;

namespace ContextLake.Gateway.Views;

public sealed record CreateViewDoc(string Sql);

public sealed record AggregateDoc(string Alias, string Function, string? Argument);

public sealed record WindowSpecDoc(string Kind, string? Size, string? Slide, string? Gap, string AllowedLateness);

/// <summary>A view's backfill: <see cref="Done"/> of <see cref="Total"/> entity partitions have delivered theirs, replaying <see cref="Events"/> events.</summary>
public sealed record BackfillDoc(long Done, long Total, long Events);

public sealed record VectorSpecDoc(string Column, int Dimensions, string Metric, int Partitions, int Probes);

public sealed record ViewDoc(string Name, string Sql, string Source, string Key, IReadOnlyList<AggregateDoc> Aggregates,
    WindowSpecDoc? Window, string Status, bool Readable, BackfillDoc Backfill, VectorSpecDoc? Vector = null)
{
    public static ViewDoc From(CatalogView v) => new(
        v.Name, v.Entry.Sql, v.Definition.Source, v.Definition.KeyAlias,
        v.Definition.Aggregates.Select(a => new AggregateDoc(a.Alias, a.Function.ToString().ToUpperInvariant(), a.Argument)).ToList(),
        v.Definition.Window switch
        {
            TumblingWindow t => new WindowSpecDoc("tumbling", Duration(t.Size), null, null, Duration(t.AllowedLateness)),
            HoppingWindow h => new WindowSpecDoc("hopping", Duration(h.Size), Duration(h.Slide), null, Duration(h.AllowedLateness)),
            SessionWindow s => new WindowSpecDoc("session", null, null, Duration(s.Gap), Duration(s.AllowedLateness)),
            _ => null,
        },
        v.Entry.Status == ViewStatus.Ready ? "ready" : "backfilling",
        v.Ready,
        new BackfillDoc(v.Entry.BackfillDone, v.Entry.BackfillTotal, v.Entry.BackfilledEvents),
        v.Definition.Vector is { } spec
            ? new VectorSpecDoc(v.Definition.KeyColumn, spec.Dimensions, spec.Metric.ToString().ToLowerInvariant(), spec.Partitions, spec.Probes)
            : null);

    private static string Duration(TimeSpan t) =>
        t.TotalMilliseconds % 86_400_000 == 0 && t > TimeSpan.Zero ? $"{t.TotalDays:0}d"
        : t.TotalMilliseconds % 3_600_000 == 0 && t > TimeSpan.Zero ? $"{t.TotalHours:0}h"
        : t.TotalMilliseconds % 60_000 == 0 && t > TimeSpan.Zero ? $"{t.TotalMinutes:0}m"
        : t.TotalMilliseconds % 1000 == 0 ? $"{t.TotalSeconds:0}s"
        : $"{t.TotalMilliseconds:0}ms";
}

public static class ViewEndpoints
{
    public static void MapViewEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/views", Create).WithName("CreateView").WithSummary("Create a view (CREATE VIEW) or a vector view (CREATE VECTOR VIEW).").DocumentsBody<CreateViewDoc>()
            .Produces<ViewDoc>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/views", (ViewCatalog catalog) => Results.Ok(catalog.All.OrderBy(v => v.Name, StringComparer.Ordinal).Select(ViewDoc.From)))
            .WithName("ListViews").Produces<IEnumerable<ViewDoc>>();
        app.MapGet("/v1/views/{view}", (string view, ViewCatalog catalog) =>
                catalog.Find(view) is { } v ? Results.Ok(ViewDoc.From(v)) : UnknownView(view, catalog).ToResult())
            .WithName("DescribeView").Produces<ViewDoc>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapDelete("/v1/views/{view}", Drop).WithName("DropView").Produces<ViewDoc>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Create(HttpRequest request, ViewCatalog catalog, NodeOptions options,
        IRequiredActor<ViewCatalogKey> catalogActor, CancellationToken cancel)
    {
        string? sql;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel);
            sql = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("sql", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString() : null;
        }
        catch (JsonException ex)
        {
            return Problem.MalformedJson(ex).ToResult();
        }
        if (string.IsNullOrWhiteSpace(sql))
            return Problem.BadRequest("Invalid view definition", "the body must be {\"sql\": \"CREATE VIEW ...\"}").ToResult();

        ViewDefinition definition;
        try
        {
            ViewSql.CheckLength(sql, options.Limits);
            definition = ViewSql.Parse(sql);
            ViewSql.Validate(definition, catalog.Schemas.Columns);
            var source = definition.Source;
            ViewSql.CheckLimits(definition, options.Limits,
                catalog.All.Count(v => v.Definition.Source == source && v.Name != definition.Name));
        }
        catch (ViewDefinitionException ex)
        {
            return Problem.BadRequest("Invalid view definition", ex.Message).ToResult();
        }

        var reply = await catalogActor.ActorRef.Ask<ViewCatalogReply>(new CreateView(definition.Sql, definition.Name), TimeSpan.FromSeconds(10), cancel);
        if (reply.Refusal is not null)
            return reply.View is null
                ? Problem.BadRequest("Invalid view definition", reply.Refusal).ToResult()
                : new Problem(StatusCodes.Status409Conflict, "View exists", reply.Refusal).ToResult();

        // Answer once this node knows the view, so the client's next call finds it.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (catalog.Find(definition.Name, reply.View!.Incarnation) is null && DateTime.UtcNow < deadline)
            await Task.Delay(10, cancel);
        var known = catalog.Find(definition.Name);
        return known is null
            ? Results.Accepted($"/v1/views/{definition.Name}")
            : Results.Created($"/v1/views/{definition.Name}", ViewDoc.From(known));
    }

    private static async Task<IResult> Drop(string view, ViewCatalog catalog, IRequiredActor<ViewCatalogKey> catalogActor, CancellationToken cancel)
    {
        var reply = await catalogActor.ActorRef.Ask<ViewCatalogReply>(new DropView(view), TimeSpan.FromSeconds(10), cancel);
        return reply.Refusal is not null ? UnknownView(view, catalog).ToResult() : Results.Ok(new { dropped = view });
    }

    private static Problem UnknownView(string view, ViewCatalog catalog) => new(StatusCodes.Status404NotFound, "Unknown view",
        $"there is no view named '{view}' (views: {string.Join(", ", catalog.All.Select(v => v.Name).Order())})");
}
