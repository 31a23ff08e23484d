// An epoch (n, V): the n-th publication of the coordinator and the vector clock V of stream offsets
// it commits. Event (s, o) is committed at this epoch when o <= V[s].
using ContextLake.Platform.Serialization;

namespace ContextLake.Platform.Epochs;

public sealed record Epoch(long N, IReadOnlyDictionary<string, long> Vector, DateTimeOffset CommittedAt) : IPlatformMessage
{
    public static Epoch Zero { get; } = new(0, new Dictionary<string, long>(), DateTimeOffset.UnixEpoch);

    public long this[string stream] => Vector.TryGetValue(stream, out var o) ? o : 0;

    public bool Covers(string stream, long offset) => offset <= this[stream];

    /// <summary>True when every component of <paramref name="other"/> is at or below this epoch's.</summary>
    public bool Dominates(IReadOnlyDictionary<string, long> other) => other.All(kv => this[kv.Key] >= kv.Value);
}

/// <summary>A position in a stream, as clients pass it in <c>after=STREAM@OFFSET</c>.</summary>
public readonly record struct StreamPosition(string Stream, long Offset)
{
    public override string ToString() => $"{Stream}@{Offset}";

    /// <summary>Parses STREAM@OFFSET; the stream may itself contain '@' only before the last one.</summary>
    public static bool TryParse(string text, out StreamPosition position)
    {
        position = default;
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1) return false;
        if (!long.TryParse(text.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset))
            return false;
        position = new StreamPosition(text[..at], offset);
        return true;
    }
}
