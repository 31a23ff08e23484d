// contextlake epoch (or epoch show), views list|describe, connectors list|status|pause|resume: the node's /v1 endpoints
// (one place per idea: the tool does not mirror them under /admin) shown as tables.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace ContextLake.Cli;

public static class DataCommands
{
    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    public static Command Epoch()
    {
        const string what = "the latest committed epoch on the node and every stream's committed, read and lag";
        // `contextlake epoch` on its own shows it too: the first thing a user types.
        var epoch = ToolCommands.Leaf("epoch", $"{what} (also: epoch show)", Show);
        epoch.Subcommands.Add(ToolCommands.Leaf("show", what, Show));
        return epoch;

        static async Task<int> Show(Invocation inv, CancellationToken cancel)
        {
            var answer = await inv.Api.GetAsync("v1/epoch", cancel);
            if (inv.Json) return await Raw(inv, answer);
            var e = answer.Json;
            await inv.Out.WriteLineAsync(e.GetProperty("n").GetInt64() == 0
                ? "epoch 0: nothing committed yet"
                : $"epoch {N(e.GetProperty("n").GetInt64())} committed at {e.GetProperty("committedAt").GetString()} " +
                  $"({N(e.GetProperty("ageMs").GetInt64())} ms ago); oldest readable epoch {N(e.GetProperty("oldestReadable").GetInt64())}");
            var rows = e.GetProperty("streams").EnumerateObject().OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => (IReadOnlyList<string>)
                [s.Name, N(s.Value.GetProperty("committed").GetInt64()), N(s.Value.GetProperty("read").GetInt64()), N(s.Value.GetProperty("lag").GetInt64())]).ToList();
            Table.Write(inv.Out, ["STREAM", "COMMITTED", "READ", "LAG"], rows);
            return ExitCodes.Ok;
        }
    }

    public static Command Views()
    {
        var views = new Command("views", "declared views: list, describe NAME");
        views.Subcommands.Add(ToolCommands.Leaf("list", "every view with its source, key, status and backfill progress", async (inv, cancel) =>
        {
            var answer = await inv.Api.GetAsync("v1/views", cancel);
            if (inv.Json) return await Raw(inv, answer);
            Table.Write(inv.Out, ["NAME", "SOURCE", "KEY", "STATUS", "READABLE", "BACKFILL"], answer.Json.EnumerateArray().Select(v => (IReadOnlyList<string>)
            [
                v.GetProperty("name").GetString()!, v.GetProperty("source").GetString()!, v.GetProperty("key").GetString()!,
                v.GetProperty("status").GetString()!, v.GetProperty("readable").GetBoolean() ? "yes" : "no", Backfill(v),
            ]).ToList());
            return ExitCodes.Ok;
        }));
        var name = new Argument<string>("name") { Description = "the view's name" };
        views.Subcommands.Add(ToolCommands.Leaf("describe", "one view: its SQL, key, aggregates, window, status", async (inv, cancel) =>
        {
            var answer = await inv.Api.GetAsync($"v1/views/{Uri.EscapeDataString(inv.Parse.GetValue(name)!)}", cancel);
            if (inv.Json) return await Raw(inv, answer);
            var v = answer.Json;
            var window = v.TryGetProperty("window", out var w) && w.ValueKind == JsonValueKind.Object
                ? string.Join(" ", w.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => $"{p.Name}={p.Value.GetString()}"))
                : "none";
            Table.Write(inv.Out, ["FIELD", "VALUE"],
            [
                ["name", v.GetProperty("name").GetString()!], ["sql", v.GetProperty("sql").GetString()!],
                ["source", v.GetProperty("source").GetString()!], ["key", v.GetProperty("key").GetString()!], ["window", window],
                ["status", v.GetProperty("status").GetString()!], ["readable", v.GetProperty("readable").GetBoolean() ? "yes" : "no"], ["backfill", Backfill(v)],
            ]);
            await inv.Out.WriteLineAsync();
            Table.Write(inv.Out, ["ALIAS", "FUNCTION", "ARGUMENT"], v.GetProperty("aggregates").EnumerateArray().Select(a => (IReadOnlyList<string>)
                [a.GetProperty("alias").GetString()!, a.GetProperty("function").GetString()!, a.TryGetProperty("argument", out var arg) ? arg.GetString() ?? "*" : "*"]).ToList());
            return ExitCodes.Ok;
        }, name));
        return views;
    }

    public static Command Connectors()
    {
        var connectors = new Command("connectors", "connectors: list, status NAME, pause NAME, resume NAME");
        connectors.Subcommands.Add(ToolCommands.Leaf("list", "every connector with its state, streams, total lag and dead letters", async (inv, cancel) =>
        {
            var answer = await inv.Api.GetAsync("v1/connectors", cancel);
            if (inv.Json) return await Raw(inv, answer);
            Table.Write(inv.Out, ["NAME", "TYPE", "STATE", "STREAMS", "LAG", "DEAD-LETTERS"], answer.Json.EnumerateArray().Select(c => (IReadOnlyList<string>)
            [
                c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!, c.GetProperty("state").GetString()!,
                N(c.GetProperty("streams").GetArrayLength()), N(c.GetProperty("streams").EnumerateArray().Sum(s => s.GetProperty("lag").GetInt64())),
                N(c.GetProperty("deadLetters").GetInt64()),
            ]).ToList());
            return ExitCodes.Ok;
        }));
        var name = new Argument<string>("name") { Description = "the connector's name" };
        connectors.Subcommands.Add(ToolCommands.Leaf("status", "one connector: state, error, and per stream read, applied, committed, lag, buffered, dead letters",
            async (inv, cancel) => await Status(inv, await inv.Api.GetAsync($"v1/connectors/{Uri.EscapeDataString(inv.Parse.GetValue(name)!)}/status", cancel)), name));
        foreach (var (action, description) in new[] { ("pause", "stop reading (positions are kept)"), ("resume", "read again from where it stopped") })
        {
            connectors.Subcommands.Add(ToolCommands.Leaf(action, description, async (inv, cancel) =>
                await Status(inv, await inv.Api.SendAsync(HttpMethod.Put, $"v1/connectors/{Uri.EscapeDataString(inv.Parse.GetValue(name)!)}/{action}", null, cancel)), name));
        }
        return connectors;
    }

    private static async Task<int> Status(Invocation inv, NodeApi.Answer answer)
    {
        if (inv.Json) return await Raw(inv, answer);
        var c = answer.Json;
        var error = c.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? $", error: {e.GetString()}" : "";
        await inv.Out.WriteLineAsync($"{c.GetProperty("name").GetString()} ({c.GetProperty("type").GetString()}): {c.GetProperty("state").GetString()}, " +
            $"{N(c.GetProperty("deadLetters").GetInt64())} dead letters{error}");
        Table.Write(inv.Out, ["STREAM", "READ", "APPLIED", "COMMITTED", "LAG", "BUFFERED", "DEAD-LETTERS"], c.GetProperty("streams").EnumerateArray().Select(s => (IReadOnlyList<string>)
        [
            s.GetProperty("stream").GetString()!, N(s.GetProperty("read").GetInt64()), N(s.GetProperty("applied").GetInt64()), N(s.GetProperty("committed").GetInt64()),
            N(s.GetProperty("lag").GetInt64()), N(s.GetProperty("buffered").GetInt64()), N(s.GetProperty("deadLetters").GetInt64()),
        ]).ToList());
        return ExitCodes.Ok;
    }

    private static string Backfill(JsonElement view) =>
        $"{N(view.GetProperty("backfill").GetProperty("done").GetInt64())}/{N(view.GetProperty("backfill").GetProperty("total").GetInt64())}";

    private static async Task<int> Raw(Invocation inv, NodeApi.Answer answer)
    {
        await inv.Out.WriteLineAsync(answer.Text);
        return ExitCodes.Ok;
    }
}
