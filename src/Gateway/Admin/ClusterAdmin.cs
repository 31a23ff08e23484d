// The cluster as operators see it: members with status, reachability from this node, version, the leader
// and the oldest member (where every cluster singleton runs); leave, down, down-unreachable; a live event feed.
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using ContextLake.Gateway.Problems;

namespace ContextLake.Gateway.Admin;

public sealed record MemberDoc(string Address, string Status, string Reachability, IReadOnlyList<string> Roles, string AppVersion,
    bool Leader, bool Oldest, bool Self);

public sealed record ClusterDoc(string Self, string? Leader, string? Oldest, string? SingletonsOn, IReadOnlyList<MemberDoc> Members);

public sealed record MemberAddressDoc(string? Address);

public sealed record MemberActionDoc(string Action, string Address, string Status);

public sealed record DownUnreachableDoc(IReadOnlyList<string> Downed);

public static class ClusterAdmin
{
    public static void MapClusterAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/cluster/members", (ActorSystem system) => Results.Ok(Describe(Cluster.Get(system))))
            .WithName("ClusterMembers").Produces<ClusterDoc>();
        admin.MapPost("/cluster/leave", (HttpRequest request, ActorSystem system, CancellationToken cancel) =>
                Act(request, system, "leave", (cluster, address) => cluster.Leave(address), cancel))
            .WithName("ClusterLeave").Produces<MemberActionDoc>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/cluster/down", (HttpRequest request, ActorSystem system, CancellationToken cancel) =>
                Act(request, system, "down", (cluster, address) => cluster.Down(address), cancel))
            .WithName("ClusterDown").Produces<MemberActionDoc>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/cluster/down-unreachable", (ActorSystem system) =>
            {
                var cluster = Cluster.Get(system);
                var downed = cluster.State.Unreachable.Select(m => m.Address).Distinct().ToList();
                foreach (var address in downed) cluster.Down(address);
                return Results.Ok(new DownUnreachableDoc(downed.Select(a => a.ToString()).ToList()));
            })
            .WithName("ClusterDownUnreachable").Produces<DownUnreachableDoc>();
        admin.MapGet("/cluster/events", Events).WithName("ClusterEvents").Produces<MembershipEventDoc>(contentType: "application/x-ndjson");
    }

    public static ClusterDoc Describe(Cluster cluster)
    {
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        // Singletons run on the oldest member that is Up (or Leaving, until they have been handed over).
        var oldest = state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving)
            .Aggregate((Member?)null, (best, m) => best is null || m.IsOlderThan(best) ? m : best);
        var members = state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).Select(m => new MemberDoc(
            m.Address.ToString(), StatusName(m.Status), unreachable.Contains(m.Address) ? "unreachable" : "reachable",
            m.Roles.OrderBy(r => r, StringComparer.Ordinal).ToList(), m.AppVersion.ToString(),
            m.Address.Equals(state.Leader), oldest is not null && m.Address.Equals(oldest.Address), m.Address.Equals(cluster.SelfAddress))).ToList();
        return new ClusterDoc(cluster.SelfAddress.ToString(), state.Leader?.ToString(), oldest?.Address.ToString(), oldest?.Address.ToString(), members);
    }

    public static string StatusName(MemberStatus status) => status.ToString();

    /// <summary>
    /// Finds a member by its full address (akka.tcp://contextlake@127.0.0.1:4053) or by host:port;
    /// the message names what was asked and what exists.
    /// </summary>
    public static (Member? Member, Problem? Problem) Find(Cluster cluster, string? wanted)
    {
        if (string.IsNullOrWhiteSpace(wanted))
            return (null, Problem.BadRequest("Invalid member address",
                "the body must be {\"address\": \"akka.tcp://system@host:port\"} (or \"host:port\")"));
        var member = cluster.State.Members.FirstOrDefault(m =>
            m.Address.ToString() == wanted || $"{m.Address.Host}:{m.Address.Port}" == wanted);
        return member is not null
            ? (member, null)
            : (null, new Problem(StatusCodes.Status404NotFound, "Unknown member",
                $"no cluster member at '{wanted}'; members are: {string.Join(", ", cluster.State.Members.Select(m => m.Address.ToString()))}"));
    }

    private static async Task<IResult> Act(HttpRequest request, ActorSystem system, string action, Action<Cluster, Address> apply, CancellationToken cancel)
    {
        MemberAddressDoc? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<MemberAddressDoc>(request.Body, JsonSerializerOptions.Web, cancel);
        }
        catch (JsonException ex)
        {
            return Problem.MalformedJson(ex).ToResult();
        }
        var cluster = Cluster.Get(system);
        var (member, problem) = Find(cluster, body?.Address);
        if (problem is not null) return problem.ToResult();
        apply(cluster, member!.Address);
        return Results.Json(new MemberActionDoc(action, member.Address.ToString(), StatusName(member.Status)), statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>JSON lines, one per membership event, the current members first; ends when the client goes,
    /// the node stops, or this node's actor system terminates (after it left the cluster).</summary>
    private static async Task Events(HttpContext context, ActorSystem system, IHostApplicationLifetime lifetime)
    {
        var channel = Channel.CreateBounded<MembershipEventDoc>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        var relay = system.ActorOf(MembershipEventRelay.PropsFor(channel.Writer));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.Body.FlushAsync(stop.Token);
            await foreach (var e in channel.Reader.ReadAllAsync(stop.Token))
            {
                await context.Response.WriteAsync(JsonSerializer.Serialize(e, JsonSerializerOptions.Web) + "\n", stop.Token);
                await context.Response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or the node is stopping: the feed simply ends.
        }
        finally
        {
            relay.Tell(PoisonPill.Instance);
        }
    }
}
