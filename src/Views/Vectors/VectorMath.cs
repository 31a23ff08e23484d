// Similarity for vector views: cosine is a dot product of unit vectors, so every vector is normalised once
// when it enters (and every query once), and all searching is one SIMD dot product per candidate.
using System.Numerics.Tensors;

namespace ContextLake.Views.Vectors;

public enum VectorMetric
{
    Cosine,
    Dot,
}

public static class VectorMath
{
    /// <summary>Higher is more similar for both metrics (vectors already prepared by <see cref="TryPrepare"/>).</summary>
    public static float Score(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>
    /// Makes <paramref name="vector"/> ready to search under <paramref name="metric"/> (in place: unit length for
    /// cosine). Null when it cannot take part: a non-finite component, or a zero vector under cosine.
    /// </summary>
    public static string? TryPrepare(VectorMetric metric, Span<float> vector)
    {
        foreach (var x in vector)
            if (!float.IsFinite(x)) return "a component is not a finite number";
        if (metric != VectorMetric.Cosine) return null;
        var norm = TensorPrimitives.Norm(vector);
        if (norm == 0 || !float.IsFinite(norm)) return "a zero vector has no direction for cosine similarity";
        TensorPrimitives.Divide(vector, norm, vector);
        return null;
    }
}

/// <summary>One search answer: an entity id and its similarity to the query.</summary>
public readonly record struct Neighbor(string Id, float Score)
{
    /// <summary>The order of answers: higher score first, ties by id, so exact searches are deterministic.</summary>
    public static int Compare(Neighbor a, Neighbor b)
    {
        var c = b.Score.CompareTo(a.Score);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }
}

/// <summary>The k best candidates seen so far, as a heap whose root is the worst kept (the bar to beat).</summary>
public sealed class TopK
{
    private readonly Neighbor[] _heap;
    private int _count;

    public TopK(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        _heap = new Neighbor[k];
    }

    public int Count => _count;

    /// <summary>Whether a candidate with this score could still enter (checked before looking up its id).</summary>
    public bool Admits(float score) => _count < _heap.Length || score >= _heap[0].Score;

    public void Offer(Neighbor candidate)
    {
        if (_count < _heap.Length)
        {
            _heap[_count] = candidate;
            SiftUp(_count++);
        }
        else if (Neighbor.Compare(candidate, _heap[0]) < 0)
        {
            _heap[0] = candidate;
            SiftDown(0);
        }
    }

    /// <summary>The kept candidates, best first.</summary>
    public List<Neighbor> ToList()
    {
        var list = new List<Neighbor>(_count);
        for (var i = 0; i < _count; i++) list.Add(_heap[i]);
        list.Sort(Neighbor.Compare);
        return list;
    }

    // The heap keeps the worst at the root: "worse" is a positive Compare.
    private bool Worse(int i, int j) => Neighbor.Compare(_heap[i], _heap[j]) > 0;

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Worse(i, parent)) return;
            (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            int left = 2 * i + 1, right = left + 1, worst = i;
            if (left < _count && Worse(left, worst)) worst = left;
            if (right < _count && Worse(right, worst)) worst = right;
            if (worst == i) return;
            (_heap[i], _heap[worst]) = (_heap[worst], _heap[i]);
            i = worst;
        }
    }
}
