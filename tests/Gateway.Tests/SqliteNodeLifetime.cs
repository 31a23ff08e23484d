// A node process on a fresh SQLite journal for the life of a spec (or of a class fixture).
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests;

public class SqliteNodeLifetime : IAsyncLifetime
{
    private TestJournal _journal = null!;

    public NodeProcess Node { get; private set; } = null!;

    /// <summary>Settings beside the journal's, as environment variables (ContextLake__Section__Key).</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public virtual async Task InitializeAsync()
    {
        _journal = TestJournal.Create(JournalProvider.Sqlite);
        var environment = new Dictionary<string, string>(_journal.Environment);
        foreach (var (k, v) in Settings) environment[k] = v;
        Node = await NodeProcess.StartReadyAsync(environment);
    }

    public virtual async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await _journal.DisposeAsync();
    }
}

/// <summary>One node shared by the tests of a class.</summary>
public sealed class SqliteNodeFixture : SqliteNodeLifetime;
