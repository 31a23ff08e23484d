// What the PostgreSQL change stream hands downstream: whole committed transactions, each tagged with the
// LSN a consumer acknowledges once its own commit covers it.
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ContextLake.Connectors.Cdc;

/// <summary>
/// Where to capture from. <paramref name="Tables"/> may be plain (resolved through the search path) or
/// schema-qualified; changes always name their table schema-qualified ("public.orders").
/// Slot and publication names are plain lower-case identifiers so they never need quoting.
/// </summary>
public sealed record CdcSettings(string ConnectionString, string Slot, string Publication, IReadOnlyList<string> Tables)
{
    private static readonly Regex Identifier = new("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("a connection string is required", nameof(ConnectionString));
        if (!Identifier.IsMatch(Slot))
            throw new ArgumentException($"slot name '{Slot}' must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)", nameof(Slot));
        if (!Identifier.IsMatch(Publication))
            throw new ArgumentException($"publication name '{Publication}' must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)", nameof(Publication));
        if (Tables is null || Tables.Count == 0 || Tables.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("at least one table is required and table names must not be blank", nameof(Tables));
    }
}

public enum CdcChangeKind
{
    Insert,
    Update,
    Delete,
}

/// <summary>
/// One row change. Before is the old row (all columns under REPLICA IDENTITY FULL, key columns only
/// when the table's identity is its key); After is the new row. Values are JSON by column type.
/// </summary>
public sealed record CdcChange(
    string Table,
    CdcChangeKind Kind,
    IReadOnlyDictionary<string, JsonElement>? Before,
    IReadOnlyDictionary<string, JsonElement>? After);

/// <summary>
/// One committed source transaction, never split. <paramref name="Lsn"/> is the commit's end LSN (for the
/// initial snapshot: the slot's consistent point) and strictly increases along the stream.
/// </summary>
public sealed record CdcTransaction(ulong Lsn, IReadOnlyList<CdcChange> Changes);

/// <summary>The materialized handle of a running change stream.</summary>
public interface ICdcControl
{
    /// <summary>
    /// Everything up to and including the transaction with this LSN is durably handled downstream: the slot
    /// may forget it. Acknowledgements only move forward; a restart redelivers everything after the last one.
    /// </summary>
    void Acknowledge(ulong lsn);

    /// <summary>Sends the last acknowledgement, closes the replication connection and completes the stream.</summary>
    Task StopAsync();
}
