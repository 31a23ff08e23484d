// One list of an inverted file, stored contiguously: its vectors in one float block (row after row) and,
// beside them, the index slot each row belongs to. A probe then streams one block in memory order and
// scores each row with one SIMD dot product, instead of chasing vectors scattered over the whole index.
using System.Numerics.Tensors;

namespace ContextLake.Views.Vectors;

internal sealed class IvfList
{
    private readonly int _dim;
    private float[] _vectors;
    private int[] _slots;

    public IvfList(int dim, int capacity = 8)
    {
        _dim = dim;
        _vectors = new float[capacity * dim];
        _slots = new int[capacity];
    }

    public int Count { get; private set; }

    public int SlotAt(int row) => _slots[row];

    public ReadOnlySpan<float> VectorAt(int row) => _vectors.AsSpan(row * _dim, _dim);

    public float ScoreAt(int row, ReadOnlySpan<float> query) => TensorPrimitives.Dot(query, _vectors.AsSpan(row * _dim, _dim));

    /// <summary>Appends <paramref name="slot"/>'s vector; returns its row.</summary>
    public int Add(int slot, ReadOnlySpan<float> vector)
    {
        if (Count == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
            Array.Resize(ref _vectors, _slots.Length * _dim);
        }
        vector.CopyTo(_vectors.AsSpan(Count * _dim, _dim));
        _slots[Count] = slot;
        return Count++;
    }

    /// <summary>Removes <paramref name="row"/> by moving the last row into its place; returns the slot that moved there, or -1.</summary>
    public int RemoveAt(int row)
    {
        var last = --Count;
        if (row == last) return -1;
        _vectors.AsSpan(last * _dim, _dim).CopyTo(_vectors.AsSpan(row * _dim, _dim));
        _slots[row] = _slots[last];
        return _slots[row];
    }
}
