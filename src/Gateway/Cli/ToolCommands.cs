// The command tree (cluster, sharding, epoch, views, connectors, reconcile) and the global options every command
// takes; usage errors end with exit code 2 before anything is sent.
using System.CommandLine;
using System.CommandLine.Parsing;

namespace ContextLake.Cli;

/// <summary>What one command runs with: the node's API, whether to print the API's JSON, and where to print.</summary>
public sealed record Invocation(NodeApi Api, bool Json, TextWriter Out, TextWriter Error, ParseResult Parse);

public static class ToolCommands
{
    public const string UrlVariable = "CONTEXTLAKE_URL";
    public const string TokenVariable = "CONTEXTLAKE_TOKEN";
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static readonly Option<string> Url = new("--url")
    {
        Description = $"the node's HTTP address (default ${UrlVariable}, else {DefaultUrl})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } u ? u : DefaultUrl,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = $"the admin bearer token, setting ContextLake:Admin:Token of the node (default ${TokenVariable})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TokenVariable),
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "print the API's JSON instead of tables (tail: one JSON object a line)",
        Recursive = true,
    };

    public static readonly Option<string> Timeout = new("--timeout")
    {
        Description = "how long to wait for each answer, e.g. 10s, 1m",
        Recursive = true,
        DefaultValueFactory = _ => "30s",
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("contextlake: operate a ContextLake cluster over its admin and /v1 APIs. " +
            "Exit codes: 0 ok, 1 the operation failed or was refused, 2 usage error, 3 node unreachable, 4 unauthorized, 5 reconcile found defects.");
        root.Options.Add(Url);
        root.Options.Add(Token);
        root.Options.Add(Json);
        root.Options.Add(Timeout);
        Timeout.Validators.Add(r =>
        {
            if (!Durations.TryParse(r.GetValueOrDefault<string>(), out _)) r.AddError($"--timeout: '{r.GetValueOrDefault<string>()}' is not a duration like 500ms, 10s, 2m");
        });
        root.Subcommands.Add(ClusterCommands.Build());
        root.Subcommands.Add(ShardingCommands.Build());
        root.Subcommands.Add(DataCommands.Epoch());
        root.Subcommands.Add(DataCommands.Views());
        root.Subcommands.Add(DataCommands.Connectors());
        root.Subcommands.Add(ReconcileCommands.Build());
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancel = default)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) await error.WriteLineAsync($"contextlake: {e.Message}");
            await error.WriteLineAsync("see 'contextlake --help'");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancel);
    }

    /// <summary>A command that talks to a node: builds the API client from the global options and maps failures to exit codes.</summary>
    public static Command Leaf(string name, string description, Func<Invocation, CancellationToken, Task<int>> run, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var s in symbols)
        {
            if (s is Argument a) command.Arguments.Add(a);
            else if (s is Option o) command.Options.Add(o);
        }
        command.SetAction(async (parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var url = parse.GetValue(Url)!;
            if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            {
                await error.WriteLineAsync($"contextlake: --url: '{url}' is not an http:// or https:// address");
                return ExitCodes.Usage;
            }
            Durations.TryParse(parse.GetValue(Timeout), out var timeout);
            using var api = new NodeApi(baseUrl, parse.GetValue(Token), timeout);
            try
            {
                return await run(new Invocation(api, parse.GetValue(Json), output, error, parse), cancel);
            }
            catch (CliFailure failure)
            {
                await error.WriteLineAsync($"contextlake: {failure.Message}");
                return failure.ExitCode;
            }
        });
        return command;
    }
}

/// <summary>Durations as the node's settings write them: 500ms, 10s, 2m, 1h, or a TimeSpan (00:00:10).</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var units = new (string Suffix, double Ms)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000) };
        foreach (var (suffix, ms) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                double.TryParse(text[..^suffix.Length], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                value = TimeSpan.FromMilliseconds(n * ms);
                return true;
            }
        }
        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out value) && value > TimeSpan.Zero;
    }
}
