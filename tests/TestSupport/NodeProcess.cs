// A ContextLake node as a user runs it: `dotnet ContextLake.Gateway.dll` in its own process, on free loopback
// ports (HTTP, and the Redis protocol's, so that nodes side by side never meet on its default port), stopped
// gracefully (SIGTERM) or killed (SIGKILL) by the test.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace ContextLake.Testing;

public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeProcess(Process process, int port, int respPort)
    {
        _process = process;
        Port = port;
        RespPort = respPort;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>Where the node speaks the Redis protocol (ContextLake:Resp:Urls), on loopback; 0 when the test turned it off.</summary>
    public int RespPort { get; }

    /// <summary>The Redis protocol endpoint as a StackExchange.Redis configuration string names it.</summary>
    public string RespEndpoint => $"127.0.0.1:{RespPort}";
    public Uri BaseAddress { get; }
    public HttpClient Http { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The node's process id, for benchmarks that read /proc/PID or attach a profiler.</summary>
    public int Id => _process.Id;

    /// <summary>Resident memory of the node process now, in bytes (Linux /proc), for benchmarks.</summary>
    public long ResidentBytes
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts a node; <paramref name="port"/> 0 picks a free one.</summary>
    public static NodeProcess Start(IReadOnlyDictionary<string, string> environment, int port = 0)
    {
        port = port == 0 ? FreePort() : port;
        var respPort = environment.TryGetValue("ContextLake__Resp__Urls", out var respUrls)
            ? (int.TryParse(respUrls[(respUrls.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var given) ? given : 0)
            : FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(GatewayDll)!,
        };
        info.ArgumentList.Add(GatewayDll);
        info.Environment["ContextLake__Http__Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["ContextLake__Resp__Urls"] = respPort == 0 ? "" : $"127.0.0.1:{respPort}";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the node process");
        return new NodeProcess(process, port, respPort);
    }

    /// <summary>Starts a node and waits until /readyz answers 200.</summary>
    public static async Task<NodeProcess> StartReadyAsync(IReadOnlyDictionary<string, string> environment, int port = 0)
    {
        var node = Start(environment, port);
        await node.WaitReadyAsync();
        return node;
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the node exited with code {_process.ExitCode}:\n{Output}");
            try
            {
                using var r = await Http.GetAsync("readyz");
                if (r.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the node was not ready within the timeout:\n{Output}");
    }

    /// <summary>kill -9: no shutdown hooks, no flushing.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM: CoordinatedShutdown runs.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        _ = SysKill(_process.Id, 15);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    /// <summary>SIGSTOP: the process freezes as a stalled host or a long GC pause would (no heartbeats, no answers, sockets open).</summary>
    public void Pause()
    {
        if (!_process.HasExited) _ = SysKill(_process.Id, 19);
    }

    /// <summary>SIGCONT: a paused process runs on from where it stood.</summary>
    public void Resume()
    {
        if (!_process.HasExited) _ = SysKill(_process.Id, 18);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Resume();
        await KillAsync();
        Http.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    private static readonly HashSet<int> HandedOut = new();

    /// <summary>A loopback port free now, chosen below the kernel's ephemeral range: ports the OS gives to port-0
    /// listeners (an embedded Kafka broker) and to outgoing connections (journal, HTTP clients) come from that range,
    /// so none of them can take this port between now and the moment the node binds it.</summary>
    public static int FreePort()
    {
        var (ephemeralLow, ephemeralHigh) = EphemeralRange();
        var (low, high) = ephemeralLow - 10_000 >= 1024 ? (ephemeralLow - 10_000, ephemeralLow) : (ephemeralHigh + 1, 65536);
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(low, high);
                if (HandedOut.Contains(port)) continue;
                try
                {
                    var probe = new TcpListener(IPAddress.Loopback, port);
                    probe.Start();
                    probe.Stop();
                }
                catch (SocketException)
                {
                    continue;
                }
                HandedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"no free loopback port in {low}..{high - 1}");
    }

    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999); // Linux's default
        }
    }

    /// <summary>The gateway built beside the tests (same configuration), found from the repository root.</summary>
    public static string GatewayDll { get; } = BuiltDll(Path.Combine("src", "Gateway"), "ContextLake.Gateway.dll");

    /// <summary>A project's built dll in the configuration the tests were built in (Debug or Release).</summary>
    public static string BuiltDll(string projectDirectory, string dllName)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ContextLake.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("ContextLake.sln not found above " + AppContext.BaseDirectory);
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(dir.FullName, projectDirectory, "bin", configuration, "net10.0", dllName);
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the solution first: {dll} is missing");
    }
}
