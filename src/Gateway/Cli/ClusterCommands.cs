// contextlake cluster show | leave ADDR | down ADDR | down-unreachable | tail: membership over /admin/cluster/….
using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace ContextLake.Cli;

public static class ClusterCommands
{
    public static Command Build()
    {
        var cluster = new Command("cluster", "cluster membership: show, leave, down, down-unreachable, tail");
        cluster.Subcommands.Add(ToolCommands.Leaf("show", "members with status, reachability (as this node sees it), roles, version, leader and oldest (where the singletons run)", Show));
        cluster.Subcommands.Add(MemberAction("leave", "ask a member to leave the cluster gracefully (its shards and singletons are handed over first)"));
        cluster.Subcommands.Add(MemberAction("down", "mark a member down (for a node that is gone and will not come back)"));
        cluster.Subcommands.Add(ToolCommands.Leaf("down-unreachable", "mark down every member this node sees as unreachable", DownUnreachable));

        var count = new Option<int?>("--count") { Description = "stop after this many events (the current members count as events too)" };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--count must be at least 1");
        });
        var duration = new Option<string?>("--for") { Description = "stop after this long, e.g. 30s, 5m (default: until interrupted)" };
        duration.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } d && !Durations.TryParse(d, out _)) r.AddError($"--for: '{d}' is not a duration like 10s, 5m");
        });
        cluster.Subcommands.Add(ToolCommands.Leaf("tail", "print membership events as they happen, the current members first",
            (inv, cancel) => Tail(inv, inv.Parse.GetValue(count), inv.Parse.GetValue(duration), cancel), count, duration));
        return cluster;
    }

    private static async Task<int> Show(Invocation inv, CancellationToken cancel)
    {
        var answer = await inv.Api.GetAsync("admin/cluster/members", cancel);
        if (inv.Json)
        {
            await inv.Out.WriteLineAsync(answer.Text);
            return ExitCodes.Ok;
        }
        var rows = answer.Json.GetProperty("members").EnumerateArray().Select(m =>
        {
            var notes = new List<string>();
            if (m.GetProperty("leader").GetBoolean()) notes.Add("leader");
            if (m.GetProperty("oldest").GetBoolean()) notes.Add("oldest (singletons)");
            if (m.GetProperty("self").GetBoolean()) notes.Add("self");
            var roles = m.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToList();
            return (IReadOnlyList<string>)
            [
                m.GetProperty("address").GetString()!, m.GetProperty("status").GetString()!, m.GetProperty("reachability").GetString()!,
                roles.Count == 0 ? "-" : string.Join(",", roles), m.GetProperty("appVersion").GetString()!, string.Join(", ", notes),
            ];
        }).ToList();
        Table.Write(inv.Out, ["ADDRESS", "STATUS", "REACHABILITY", "ROLES", "VERSION", "NOTES"], rows);
        return ExitCodes.Ok;
    }

    private static Command MemberAction(string action, string description)
    {
        var address = new Argument<string>("address") { Description = "the member: akka.tcp://contextlake@host:port, or host:port" };
        return ToolCommands.Leaf(action, description, async (inv, cancel) =>
        {
            var answer = await inv.Api.SendAsync(HttpMethod.Post, $"admin/cluster/{action}", new { address = inv.Parse.GetValue(address) }, cancel);
            await inv.Out.WriteLineAsync(inv.Json
                ? answer.Text
                : $"{action} requested for {answer.Json.GetProperty("address").GetString()} (status was {answer.Json.GetProperty("status").GetString()})");
            return ExitCodes.Ok;
        }, address);
    }

    private static async Task<int> DownUnreachable(Invocation inv, CancellationToken cancel)
    {
        var answer = await inv.Api.SendAsync(HttpMethod.Post, "admin/cluster/down-unreachable", null, cancel);
        if (inv.Json)
        {
            await inv.Out.WriteLineAsync(answer.Text);
            return ExitCodes.Ok;
        }
        var downed = answer.Json.GetProperty("downed").EnumerateArray().Select(a => a.GetString()!).ToList();
        if (downed.Count == 0) await inv.Out.WriteLineAsync("no unreachable members");
        foreach (var a in downed) await inv.Out.WriteLineAsync($"down requested for {a}");
        return ExitCodes.Ok;
    }

    private static async Task<int> Tail(Invocation inv, int? count, string? duration, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (duration is not null && Durations.TryParse(duration, out var span)) stop.CancelAfter(span);
        using var response = await inv.Api.OpenStreamAsync("admin/cluster/events", stop.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
        var seen = 0;
        try
        {
            while (count is null || seen < count)
            {
                var line = await reader.ReadLineAsync(stop.Token);
                if (line is null)
                {
                    await inv.Error.WriteLineAsync("contextlake: the node closed the event stream (it is stopping, or it left the cluster)");
                    return ExitCodes.Unreachable;
                }
                if (line.Length == 0) continue;
                seen++;
                if (inv.Json)
                {
                    await inv.Out.WriteLineAsync(line);
                }
                else
                {
                    var e = JsonDocument.Parse(line).RootElement;
                    var at = e.GetProperty("at").GetDateTimeOffset().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
                    await inv.Out.WriteLineAsync($"{at}  {e.GetProperty("event").GetString(),-11}  {e.GetProperty("address").GetString()}  {e.GetProperty("status").GetString()}");
                }
                await inv.Out.FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // --for elapsed or the user interrupted: a normal end.
        }
        catch (IOException ex)
        {
            throw new CliFailure(ExitCodes.Unreachable, $"the event stream from {inv.Api.BaseUrl} broke: {ex.Message}");
        }
        return ExitCodes.Ok;
    }
}
