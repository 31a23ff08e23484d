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

    public Multiset Add(EntryKey key, long weight)
    {
        if (weight == 0) return this;
        var entries = Entries;
        long before = 0;
        if (entries.TryGetValue(new Weighted(key, 0), out var existing))
        {
            before = existing.Weight;
            entries = entries.Remove(existing);
        }
        var after = checked(before + weight);
        if (after != 0) entries = entries.Add(new Weighted(key, after));
        return new Multiset(entries,
            Positive - (before > 0 ? 1 : 0) + (after > 0 ? 1 : 0),
            Negative - (before < 0 ? 1 : 0) + (after < 0 ? 1 : 0));
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
