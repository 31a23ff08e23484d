// The count of HTTP write streams is part of the journal, as the partition count is: recorded (setting "Writes:Streams"
// in the journal database's contextlake_layout table) on the first start and checked on every start after, because an
// idempotency key's stream is its hash modulo the count: a node counting differently would send a retried batch to a
// stream that never saw its keys, and write it twice. A node that does not configure a count takes the recorded one; on
// a journal that has none recorded, one already holding the rows of the single write log ("stream-http:writes", from
// before there were several) keeps that one stream, and a new journal gets the provider's default.
using System.Data.Common;
using System.Globalization;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.Journal;

namespace ContextLake.Connectors.Http;

public static class WriteStreamLayout
{
    private const string Setting = "Writes:Streams";

    /// <summary>
    /// Records the configured count of write streams, or checks it against the recorded one; returns the problem, or null. An
    /// unset count (0) becomes the recorded one (or the default) in <paramref name="writes"/>.
    /// </summary>
    public static async Task<string?> VerifyAsync(JournalDatabase journal, WriteLogOptions writes, CancellationToken cancel = default)
    {
        await using var conn = await journal.OpenAsync(cancel);
        var fixedCount = await JournalLayout.FixAsync(conn, Setting, writes.Streams, async () =>
            await HoldsSingleWriteLogAsync(conn, journal.Provider == JournalProvider.Sqlite, cancel) ? 1 : WriteLogOptions.DefaultStreams(journal.Provider), cancel);
        if (writes.Streams == 0) writes.Streams = fixedCount;
        return writes.Streams == fixedCount
            ? null
            : $"{NodeOptions.Section}:{Setting}: the journal was created with {fixedCount} write streams and this node is configured with {writes.Streams}; " +
              $"the count is fixed for a journal's life (a batch's idempotency keys are remembered by the stream its first key hashes to): " +
              $"set {NodeOptions.Section}:{Setting} to {fixedCount}, or leave it unset, or start with an empty journal";
    }

    private static async Task<bool> HoldsSingleWriteLogAsync(DbConnection conn, bool sqlite, CancellationToken cancel)
    {
        if (!await JournalLayout.TableExistsAsync(conn, sqlite, "journal", cancel)) return false;
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM (SELECT 1 FROM journal WHERE persistence_id = @p LIMIT 1) x";
        cmd.AddParameter("p", "stream-" + WriteStreams.Single);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel), CultureInfo.InvariantCulture) > 0;
    }
}
