// The connectors API, modelled on Kafka Connect's REST API: create, list, status (per-stream
// positions, lag, dead letters), pause, resume, delete; and the dead letters themselves.
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using ContextLake.Connectors.Framework;
using ContextLake.Gateway.OpenApi;
using ContextLake.Gateway.Problems;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Events;

namespace ContextLake.Gateway.Connectors;

public sealed record CreateConnectorDoc(string Name, JsonElement Config);

public sealed record StreamStatusDoc(string Stream, long Read, long Applied, long Committed, long Lag, long DeadLetters, long Buffered, string? Node);

public sealed record ConnectorStatusDoc(string Name, string Type, string State, string? Error, JsonElement Config, long DeadLetters, IReadOnlyList<StreamStatusDoc> Streams);

public sealed record DeadLetterDoc(string Stream, long Offset, string Raw, string Reason, DateTimeOffset At);

public static class ConnectorEndpoints
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static void MapConnectorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/connectors", Create).WithName("CreateConnector").DocumentsBody<CreateConnectorDoc>()
            .Produces<ConnectorStatusDoc>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/connectors", List).WithName("ListConnectors").Produces<IEnumerable<ConnectorStatusDoc>>();
        app.MapGet("/v1/connectors/{name}/status", Status).WithName("ConnectorStatus").Produces<ConnectorStatusDoc>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/connectors/{name}/dead-letters", DeadLetters).WithName("ConnectorDeadLetters").Produces<IEnumerable<DeadLetterDoc>>();
        app.MapPut("/v1/connectors/{name}/pause", (string name, IRequiredActor<ConnectorManagerKey> m, EpochClock c, DeadLetterStore d, CancellationToken ct) =>
            Change(new PauseConnector(name), m, c, d, ct)).WithName("PauseConnector");
        app.MapPut("/v1/connectors/{name}/resume", (string name, IRequiredActor<ConnectorManagerKey> m, EpochClock c, DeadLetterStore d, CancellationToken ct) =>
            Change(new ResumeConnector(name), m, c, d, ct)).WithName("ResumeConnector");
        app.MapDelete("/v1/connectors/{name}", (string name, IRequiredActor<ConnectorManagerKey> m, EpochClock c, DeadLetterStore d, CancellationToken ct) =>
            Change(new DeleteConnector(name), m, c, d, ct)).WithName("DeleteConnector");
    }

    private static async Task<IResult> Create(HttpRequest request, ConnectorTypes types, IRequiredActor<ConnectorManagerKey> manager,
        EpochClock clock, DeadLetterStore deadLetters, CancellationToken cancel)
    {
        JsonElement root;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel);
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Problem.MalformedJson(ex).ToResult();
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var nameEl) || nameEl.ValueKind != JsonValueKind.String)
            return Problem.BadRequest("Invalid connector", "the body must be {\"name\": \"…\", \"config\": {\"type\": \"…\", …}}").ToResult();
        var name = nameEl.GetString()!;
        if (!ConnectorConfig.IsValidName(name))
            return Problem.BadRequest("Invalid connector", $"name '{name}' must be {Names.Rule}").ToResult();
        if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            return Problem.BadRequest("Invalid connector", $"connector {name}: config must be an object with a \"type\"").ToResult();
        try
        {
            var parsed = new ConnectorConfig(name, config);
            types.For(parsed).Validate(parsed);
        }
        catch (ConnectorConfigException ex)
        {
            return Problem.BadRequest("Invalid connector", ex.Message).ToResult();
        }

        var reply = await manager.ActorRef.Ask<ConnectorReply>(new CreateConnector(name, config.GetRawText()), AskTimeout, cancel);
        return reply.Refusal is not null
            ? Refused(reply).ToResult()
            : Results.Created($"/v1/connectors/{name}/status", await Doc(reply.Connector!, clock, deadLetters, cancel));
    }

    private static async Task<IResult> List(IRequiredActor<ConnectorManagerKey> manager, EpochClock clock, DeadLetterStore deadLetters, CancellationToken cancel)
    {
        var list = await manager.ActorRef.Ask<ConnectorList>(ListConnectors.Instance, AskTimeout, cancel);
        var docs = new List<ConnectorStatusDoc>();
        foreach (var c in list.Connectors) docs.Add(await Doc(c, clock, deadLetters, cancel));
        return Results.Ok(docs);
    }

    private static async Task<IResult> Status(string name, IRequiredActor<ConnectorManagerKey> manager, EpochClock clock, DeadLetterStore deadLetters, CancellationToken cancel)
    {
        var list = await manager.ActorRef.Ask<ConnectorList>(ListConnectors.Instance, AskTimeout, cancel);
        return list.Connectors.FirstOrDefault(c => c.Name == name) is { } info
            ? Results.Ok(await Doc(info, clock, deadLetters, cancel))
            : new Problem(StatusCodes.Status404NotFound, "Unknown connector", $"there is no connector named '{name}'").ToResult();
    }

    private static async Task<IResult> DeadLetters(string name, DeadLetterStore deadLetters, HttpRequest request, CancellationToken cancel)
    {
        var limit = int.TryParse(request.Query["limit"], out var l) && l is > 0 and <= 10_000 ? l : 100;
        var letters = await deadLetters.ListAsync(name, limit, cancel);
        return Results.Ok(letters.Select(d => new DeadLetterDoc(d.Stream, d.Offset, ConnectorStream.Describe(d.Raw), d.Reason, d.At)));
    }

    private static async Task<IResult> Change(object command, IRequiredActor<ConnectorManagerKey> manager, EpochClock clock, DeadLetterStore deadLetters, CancellationToken cancel)
    {
        var reply = await manager.ActorRef.Ask<ConnectorReply>(command, AskTimeout, cancel);
        if (reply.Refusal is not null) return Refused(reply).ToResult();
        return command is DeleteConnector ? Results.NoContent() : Results.Accepted(value: await Doc(reply.Connector!, clock, deadLetters, cancel));
    }

    private static Problem Refused(ConnectorReply reply) => reply.RefusalKind switch
    {
        "NotFound" => new Problem(StatusCodes.Status404NotFound, "Unknown connector", reply.Refusal!),
        "Conflict" => new Problem(StatusCodes.Status409Conflict, "Connector exists", reply.Refusal!),
        _ => Problem.BadRequest("Invalid connector", reply.Refusal!),
    };

    private static async Task<ConnectorStatusDoc> Doc(ConnectorInfo c, EpochClock clock, DeadLetterStore deadLetters, CancellationToken cancel)
    {
        var latest = clock.Latest;
        var streams = c.Streams.Select(s => new StreamStatusDoc(s.Stream, s.Read, s.Applied, latest[s.Stream], Math.Max(0, s.Read - latest[s.Stream]), s.DeadLetters, s.Buffered, s.Node)).ToList();
        using var config = JsonDocument.Parse(c.ConfigJson);
        return new ConnectorStatusDoc(c.Name, c.Type, c.State, c.Error, config.RootElement.Clone(), await deadLetters.CountAsync(c.Name, cancel), streams);
    }
}
