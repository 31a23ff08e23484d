// A gateway for the reconciliation specs, in this process so that it can take the spec's decision checker: the
// real reconciliation endpoints, Reconciliations and DecisionLog on a real journal database (a SQLite folder or a
// PostgreSQL database), served by Kestrel on a loopback port with the node's JSON and problem settings and /metrics.
// The node process (NodeProcess) cannot be used: the real checker is not registered in it yet. Decisions are
// recorded through DecisionLog.RecordAsync with the times a spec chooses; what the node logs is kept for the specs.
using ContextLake.Gateway.Decisions;
using ContextLake.Platform.Journal;
using ContextLake.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace ContextLake.Gateway.Tests.Decisions;

public sealed class ReconciliationNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ReconciliationNode(WebApplication app, Uri baseAddress, LoggedLines logs)
    {
        _app = app;
        BaseAddress = baseAddress;
        Logs = logs;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }
    public HttpClient Http { get; }
    public LoggedLines Logs { get; }
    public DecisionLog Log => _app.Services.GetRequiredService<DecisionLog>();

    public static async Task<ReconciliationNode> StartAsync(TestJournal journal, IDecisionChecker checker, DecisionOptions? options = null)
    {
        options ??= new DecisionOptions();
        var port = NodeProcess.FreePort();
        var logs = new LoggedLines();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port));
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new DecisionLog(new JournalDatabase(journal.Options), options));
        builder.Services.AddSingleton(checker);
        builder.Services.AddSingleton<Reconciliations>();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);
        var app = builder.Build();
        app.UseStatusCodePages();
        app.MapMetrics("/metrics");
        app.MapReconciliationEndpoints();
        await app.Services.GetRequiredService<DecisionLog>().EnsureAsync(CancellationToken.None);
        await app.StartAsync();
        return new ReconciliationNode(app, new Uri($"http://localhost:{port}/"), logs);
    }

    /// <summary>Records a decision at <paramref name="at"/> whose request expects <paramref name="expect"/> of the checker.</summary>
    public async Task RecordAsync(string id, DateTimeOffset at, string expect, params string[] keys)
    {
        keys = keys.Length == 0 ? ["a1"] : keys;
        var (outcome, _) = await Log.RecordAsync(
            new DecisionRecord(id, at, 7, id, LabelledChecker.Request(id, expect, keys), LabelledChecker.Answer(id, keys)), CancellationToken.None);
        if (outcome != DecisionOutcome.Recorded) throw new InvalidOperationException($"decision '{id}' was not recorded: {outcome}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Every line the node logged: its level and its formatted message.</summary>
public sealed class LoggedLines : ILoggerProvider
{
    private readonly List<(LogLevel Level, string Message)> _lines = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public ILogger CreateLogger(string categoryName) => new Sink(this);

    public void Dispose()
    {
    }

    private sealed class Sink(LoggedLines owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lock (owner._lines) owner._lines.Add((logLevel, formatter(state, exception)));
        }
    }
}
