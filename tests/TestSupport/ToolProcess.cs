// The contextlake operations tool as a user runs it: the built contextlake.dll in its own process,
// its standard output and error captured, its exit code awaited (or read while it still runs, for tail), and
// interrupted as Ctrl-C would (SIGINT).
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ContextLake.Testing;

public sealed class ToolProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private ToolProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_out, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_err, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string ToolDll { get; } = NodeProcess.BuiltDll(Path.Combine("src", "Gateway", "Cli"), "contextlake.dll");

    public string Output
    {
        get { lock (_out) return _out.ToString(); }
    }

    public string Error
    {
        get { lock (_err) return _err.ToString(); }
    }

    /// <summary>Starts `contextlake args…` with these environment variables (CONTEXTLAKE_URL, CONTEXTLAKE_TOKEN).</summary>
    public static ToolProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ToolDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("CONTEXTLAKE_URL");
        info.Environment.Remove("CONTEXTLAKE_TOKEN");
        foreach (var (k, v) in environment)
        {
            if (v is null) info.Environment.Remove(k);
            else info.Environment[k] = v;
        }
        return new ToolProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start the contextlake tool"));
    }

    /// <summary>SIGINT, what Ctrl-C sends.</summary>
    public void Interrupt() => _ = SysKill(_process.Id, 2);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Waits for the tool to end; a tool still running after the timeout is killed and the test fails.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"contextlake did not end within {timeout}; output so far:\n{Output}\nerrors:\n{Error}");
        }
        // WaitForExitAsync returns once the streams are drained as well.
        return _process.ExitCode;
    }

    /// <summary>Runs the tool to its end: its exit code, standard output and standard error.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var tool = Start(environment, args);
        var code = await tool.WaitAsync(TimeSpan.FromSeconds(90));
        return (code, tool.Output, tool.Error);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is null) return;
        lock (sb) sb.AppendLine(line);
    }
}
