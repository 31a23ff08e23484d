// The exit codes scripts can rely on; docs/operations.md lists the same.
namespace ContextLake.Cli;

public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The node answered but refused or failed the operation (4xx other than 401/403, 5xx).</summary>
    public const int Failed = 1;

    /// <summary>The command line itself was wrong: unknown command, missing argument, bad option value.</summary>
    public const int Usage = 2;

    /// <summary>No answer from the node: connection refused, name not resolved, timed out.</summary>
    public const int Unreachable = 3;

    /// <summary>The node refused the credentials: no token, a wrong token (401), or admin is loopback-only (403).</summary>
    public const int Unauthorized = 4;

    /// <summary>reconcile found a defect: a value recomputed at a decision's epoch is not the value that decision was answered.</summary>
    public const int Defects = 5;
}

/// <summary>Ends a command with an exit code and a message for standard error.</summary>
public sealed class CliFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
