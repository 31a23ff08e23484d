// Log sequence numbers in the three shapes CDC meets them: ulong (our records), NpgsqlLogSequenceNumber
// (the driver) and PostgreSQL's text form "16/B374D848" (catalog queries).
using NpgsqlTypes;

namespace ContextLake.Connectors.Cdc;

public static class CdcLsn
{
    public static NpgsqlLogSequenceNumber ToNpgsql(ulong lsn) => new(lsn);

    public static ulong FromNpgsql(NpgsqlLogSequenceNumber lsn) => (ulong)lsn;

    /// <summary>PostgreSQL's text form: high and low 32 bits in upper-case hex, e.g. "0/16B3748".</summary>
    public static string Format(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";

    public static ulong Parse(string text) =>
        NpgsqlLogSequenceNumber.TryParse(text, out var lsn)
            ? (ulong)lsn
            : throw new FormatException($"'{text}' is not a log sequence number (expected the form 0/16B3748)");
}
