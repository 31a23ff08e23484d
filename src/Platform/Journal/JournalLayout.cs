// Settings fixed for a journal's life (the partition count, the count of HTTP write streams): each is recorded in the
// journal's database (table contextlake_layout) on the first start and read on every start after, because keys are
// placed by a hash modulo it. A node that does not configure one takes the recorded value, or, on a journal that has
// none recorded, a default the caller works out.
using System.Data.Common;
using System.Globalization;

namespace ContextLake.Platform.Journal;

public static class JournalLayout
{
    public const string Table = "contextlake_layout";

    /// <summary>
    /// The count recorded as <paramref name="setting"/>, recording <paramref name="configured"/> (or, when it is 0,
    /// <paramref name="fallback"/>'s) first when the journal has none.
    /// </summary>
    public static async Task<int> FixAsync(DbConnection conn, string setting, int configured, Func<Task<int>> fallback, CancellationToken cancel)
    {
        await using (var create = conn.CreateCommand())
        {
            create.CommandText = $"CREATE TABLE IF NOT EXISTS {Table} (setting TEXT PRIMARY KEY, value TEXT NOT NULL)";
            await create.ExecuteNonQueryAsync(cancel);
        }
        if (await RecordedAsync(conn, setting, cancel) is not { } recorded)
        {
            var count = configured != 0 ? configured : await fallback();
            await using (var insert = conn.CreateCommand())
            {
                insert.CommandText = $"INSERT INTO {Table} (setting, value) VALUES (@s, @v) ON CONFLICT DO NOTHING";
                insert.AddParameter("s", setting);
                insert.AddParameter("v", count.ToString(CultureInfo.InvariantCulture));
                await insert.ExecuteNonQueryAsync(cancel);
            }
            recorded = (await RecordedAsync(conn, setting, cancel))!;
        }
        return int.Parse(recorded, CultureInfo.InvariantCulture);
    }

    public static async Task<bool> TableExistsAsync(DbConnection conn, bool sqlite, string table, CancellationToken cancel)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sqlite
            ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @t"
            : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @t";
        cmd.AddParameter("t", table);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel), CultureInfo.InvariantCulture) > 0;
    }

    private static async Task<string?> RecordedAsync(DbConnection conn, string setting, CancellationToken cancel)
    {
        await using var read = conn.CreateCommand();
        read.CommandText = $"SELECT value FROM {Table} WHERE setting = @s";
        read.AddParameter("s", setting);
        return await read.ExecuteScalarAsync(cancel) as string;
    }
}
