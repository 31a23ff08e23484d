// Load shedding in front of the write log. A refused batch used to cost what an accepted one costs before the refusal:
// its body read and parsed, every event checked, a message to the write log and back (under writers that never back
// off, 60 s at twenty times the node's capacity: 429s took 92 ms, the node's resident memory grew 1.9 GB and what it
// committed fell from 30k to 18k ev/s). Once the write log has refused a batch, this node answers 429 at once, before
// reading the body, for a short window; the first batch after it goes through to the write log and either opens the
// window again or shows there is room. Nothing accepted is affected: only batches that would very likely be refused are.
// With several write streams the gate is still the node's: a refusal by any of them shuts it (the node's writes spread
// over the streams it hosts, which fill together).
namespace ContextLake.Gateway.Writes;

public sealed class SaturationGate(TimeProvider time)
{
    /// <summary>How long after a refusal this node refuses without asking the write log: a tenth of the 1 s Retry-After.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);

    private long _closedUntil;

    /// <summary>Whether the write log refused a batch less than <see cref="Window"/> ago.</summary>
    public bool Saturated => time.GetTimestamp() < Volatile.Read(ref _closedUntil);

    /// <summary>The write log refused a batch: refuse at once for the next <see cref="Window"/>.</summary>
    public void Refused() =>
        Volatile.Write(ref _closedUntil, time.GetTimestamp() + (long)(Window.TotalSeconds * time.TimestampFrequency));
}
