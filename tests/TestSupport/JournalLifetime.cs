// Base of every spec that runs against one fresh journal (SQLite folder or PostgreSQL database) per test.
using ContextLake.Platform.Hosting;
using Xunit;

namespace ContextLake.Testing;

public abstract class JournalLifetime(JournalProvider provider) : IAsyncLifetime
{
    protected JournalProvider Provider { get; } = provider;

    protected TestJournal Journal { get; private set; } = null!;

    public virtual Task InitializeAsync()
    {
        Journal = TestJournal.Create(Provider);
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync() => await Journal.DisposeAsync();
}
