// The partition count is part of the journal: recorded in it (table contextlake_layout of the journal's
// database) on the first start, and checked on every start after, because a key's partition is its hash
// modulo the count: a node counting differently would look for every key in the wrong partition. A node
// that does not configure a count takes the recorded one (or, on a new journal, the provider's default),
// so a default that changes between versions never locks an existing journal out. A journal written by
// the per-key engine that came before is refused too, naming what to do.
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;

namespace ContextLake.Platform.State;

public static class PartitionLayout
{
    private const string Setting = "State:Partitions";

    /// <summary>
    /// Records the configured partition count, or checks it against the recorded one; returns the problem, or null. An unset
    /// count (0) becomes the recorded one, or the provider's default on a new journal, in <paramref name="state"/>.
    /// </summary>
    public static async Task<string?> VerifyAsync(JournalDatabase journal, StateOptions state, CancellationToken cancel = default)
    {
        await using var conn = await journal.OpenAsync(cancel);
        var sqlite = journal.Provider == JournalProvider.Sqlite;

        if (await JournalLayout.TableExistsAsync(conn, sqlite, "journal", cancel))
        {
            await using var old = conn.CreateCommand();
            old.CommandText = "SELECT persistence_id FROM journal WHERE persistence_id LIKE 'entity-%/%' LIMIT 1";
            if (await old.ExecuteScalarAsync(cancel) is string pid)
                return $"{NodeOptions.Section}:Journal: the journal holds rows of the per-key engine that came before the partitioned one " +
                       $"(persistence id '{pid}'); this version cannot read them. Start with an empty journal " +
                       $"({(sqlite ? "move the folder set by ContextLake:Journal:DataDirectory aside" : "a new PostgreSQL database")}).";
        }

        var recorded = await JournalLayout.FixAsync(conn, Setting, state.Partitions, () => Task.FromResult(StateOptions.DefaultPartitions(journal.Provider)), cancel);
        if (state.Partitions == 0) state.Partitions = recorded;
        return recorded == state.Partitions
            ? null
            : $"{NodeOptions.Section}:{Setting}: the journal was created with {recorded} partitions and this node is configured with {state.Partitions}; " +
              $"the count is fixed for a journal's life (a key's partition is its hash modulo the count): set {NodeOptions.Section}:{Setting} to {recorded}, " +
              "or start with an empty journal";
    }
}
