// A redis-server of the benchmark's own: Debian's package (installed when missing), started in a temporary
// folder on a free loopback port without persistence, and stopped at the end. Never the system service.
using System.Diagnostics;
using ContextLake.Testing;

namespace ContextLake.Benchmarks.Support;

public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private RedisServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        const string binary = "/usr/bin/redis-server";
        await DebianPackage.EnsureAsync("redis-server", binary);
        var dir = Directory.CreateTempSubdirectory("contextlake-redis-").FullName;
        var port = NodeProcess.FreePort();
        var info = new ProcessStartInfo(binary)
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, dir, port);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return server;
            }
            catch (System.Net.Sockets.SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Installs a Debian package with apt-get when the file it provides is missing (the machine is ours, as root).</summary>
public static class DebianPackage
{
    public static async Task EnsureAsync(string package, string provides)
    {
        if (File.Exists(provides) || Directory.Exists(provides)) return;
        Console.Error.WriteLine($"benchmarks: installing {package} (Debian package)");
        if (await Run("apt-get", "install", "-y", "-qq", package) != 0 && (await Run("apt-get", "update", "-qq") != 0 || await Run("apt-get", "install", "-y", "-qq", package) != 0))
            throw new InvalidOperationException($"could not install the Debian package {package}; install it (apt-get install -y {package}) and run again");
    }

    private static async Task<int> Run(string file, params string[] args) =>
        (await Command.RunAsync(file, args, TimeSpan.FromMinutes(10), new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" })).ExitCode;
}
