// redis-benchmark, Debian's redis-tools (installed when missing), as a child process against a loopback port:
// `-q -c CLIENTS -n REQUESTS` and one command with its arguments. Its figure is the last thing it prints, the line
// "COMMAND: N requests per second, p50=X msec" (it redraws a progress line with \r before it: the last segment counts);
// a run that exits non-zero, overruns its time or prints no such line is an error, never a figure.
using System.Globalization;
using System.Text.RegularExpressions;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Support;

public sealed record RedisBenchmarkResult(double RequestsPerSecond, double P50Ms, int Requests, int Clients);

public static partial class RedisBenchmarkTool
{
    public const string Binary = "/usr/bin/redis-benchmark";

    public static async Task<RedisBenchmarkResult> RunAsync(int port, int clients, int requests, IReadOnlyList<string> command, TimeSpan timeout)
    {
        await DebianPackage.EnsureAsync("redis-tools", Binary);
        string[] args =
        [
            "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-q",
            "-c", clients.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture), .. command,
        ];
        var (exit, output) = await Command.RunAsync(Binary, args, timeout);
        if (exit != 0) throw new InvalidOperationException($"redis-benchmark against port {port} exited with {exit}:\n{Tail(output)}");
        var last = output.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(s => s.Contains("requests per second", StringComparison.Ordinal));
        var match = last is null ? Match.Empty : Figure().Match(last);
        if (!match.Success) throw new InvalidOperationException($"redis-benchmark against port {port} printed no final figure:\n{Tail(output)}");
        return new RedisBenchmarkResult(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), requests, clients);
    }

    /// <summary>What `redis-benchmark --version` prints, e.g. "redis-benchmark 7.0.15".</summary>
    public static async Task<string> VersionAsync()
    {
        await DebianPackage.EnsureAsync("redis-tools", Binary);
        var (exit, output) = await Command.RunAsync(Binary, ["--version"], TimeSpan.FromSeconds(30));
        return exit == 0 ? output.Trim() : throw new InvalidOperationException($"redis-benchmark --version exited with {exit}: {output}");
    }

    private static string Tail(string output) => output.Length <= 2000 ? output : output[^2000..];

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?) requests per second, p50=([0-9]+(?:\.[0-9]+)?) msec")]
    private static partial Regex Figure();
}
