// A persistent multiset of values with signed net weights: retraction is just a negative weight, and sharing is free.
using System.Collections.Immutable;

namespace ContextLake.Views.Algebra;

internal readonly record struct Weighted(EntryKey Key, long Weight);

internal sealed class WeightedByKey : IComparer<Weighted>
{
    public static readonly WeightedByKey Instance = new();

    public int Compare(Weighted x, Weighted y) => x.Key.CompareTo(y.Key);
}

/// <summary>
/// Zero-weight entries are removed so that equal contents give equal structure. Negative entries exist only while a
/// retraction has arrived before its insertion; <see cref="Negative"/> counts them so readers can take the fast path
/// (first entry is the minimum) whenever there are none.
/// </summary>
internal sealed class Multiset
{
    public static readonly Multiset Empty = new(ImmutableSortedSet.Create<Weighted>(WeightedByKey.Instance), 0, 0);

    private Multiset(ImmutableSortedSet<Weighted> entries, int positive, int negative)
    {
        Entries = entries;
        Positive = positive;
        Negative = negative;
    }

    public ImmutableSortedSet<Weighted> Entries { get; }

    public int Positive { get; }

    public int Negative { get; }

    public bool IsEmpty => Entries.Count == 0;

    /// <summary>A multiset to change in place (a batch of deltas), then turn back into an immutable one.</summary>
    public Builder ToBuilder() => new(this);

    /// <summary>The mutable form of a multiset: one tree copy for a whole batch instead of one per change.</summary>
    public sealed class Builder(Multiset from)
    {
        private readonly ImmutableSortedSet<Weighted>.Builder _entries = from.Entries.ToBuilder();
        private int _positive = from.Positive;
        private int _negative = from.Negative;

        public void Add(EntryKey key, long weight)
        {
            if (weight == 0) return;
            long before = 0;
            if (_entries.TryGetValue(new Weighted(key, 0), out var existing))
            {
                before = existing.Weight;
                _entries.Remove(existing);
            }
            var after = checked(before + weight);
            if (after != 0) _entries.Add(new Weighted(key, after));
            _positive += (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
            _negative += (after < 0 ? 1 : 0) - (before < 0 ? 1 : 0);
        }

        public Multiset ToMultiset() => new(_entries.ToImmutable(), _positive, _negative);
    }

    public Weighted? FirstPositive()
    {
        if (Positive == 0) return null;
        if (Negative == 0) return Entries.Min;
        foreach (var e in Entries)
            if (e.Weight > 0) return e;
        return null;
    }

    public Weighted? LastPositive()
    {
        if (Positive == 0) return null;
        if (Negative == 0) return Entries.Max;
        foreach (var e in Entries.Reverse())
            if (e.Weight > 0) return e;
        return null;
    }

    /// <summary>Rebuilds from snapshot entries in one pass; the builder avoids a tree copy per entry.</summary>
    public static Multiset FromEntries(IEnumerable<Weighted> entries)
    {
        var builder = ImmutableSortedSet.CreateBuilder(WeightedByKey.Instance);
        var positive = 0;
        var negative = 0;
        foreach (var e in entries)
        {
            if (e.Weight == 0) continue;
            if (!builder.Add(e))
                throw new ArgumentException($"snapshot holds the value {e.Key.Value.Text} twice in one multiset");
            if (e.Weight > 0) positive++;
            else negative++;
        }
        return new Multiset(builder.ToImmutable(), positive, negative);
    }
}
