// A command a test or the benchmark suite runs (the suite itself, pg_ctl, apt-get, dotnet tool, dotnet-trace): its output
// collected, its time bounded (killed when it overruns), its exit code returned; a missing program is exit code -1.
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace ContextLake.Testing;

public static class Command
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var output = new StringBuilder();
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception ex)
        {
            return (-1, $"{file}: {ex.Message}");
        }
        using (process)
        {
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                lock (output) return (-2, $"{file} did not finish within {timeout}:\n{output}");
            }
            process.WaitForExit(); // the output's last lines
            lock (output) return (process.ExitCode, output.ToString());
        }
    }
}
