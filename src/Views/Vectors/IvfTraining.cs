// Building an inverted file is the expensive part of the approximate index (k-means plus filing every
// vector), so it runs on a copy of the vectors, off the owner's thread if the owner wishes. The index
// notes which slots change meanwhile and replays them onto the finished lists when it installs them.
namespace ContextLake.Views.Vectors;

public sealed class IvfTraining
{
    private readonly int _dim;
    private readonly float[] _vectors;
    private readonly int[] _slots;
    private readonly int _lists;
    private readonly IvfOptions _options;
    private readonly int _capacity;

    internal IvfTraining(int dim, float[] vectors, int[] slots, IvfOptions options, int capacity)
    {
        _dim = dim;
        _vectors = vectors;
        _slots = slots;
        _options = options;
        _capacity = capacity;
        _lists = Math.Max(1, (int)Math.Round(options.ListsPerSqrt * Math.Sqrt(slots.Length)));
    }

    internal InvertedLists? Result { get; private set; }

    /// <summary>Trains the centroids and files every copied vector under its nearest one. Safe on any thread.</summary>
    public IvfTraining Run()
    {
        var centroids = KMeans.Train(_vectors, _dim, _lists, _options.TrainIterations, _options.Seed);
        var nearest = new int[_slots.Length];
        Parallel.For(0, _slots.Length, i => nearest[i] = KMeans.Nearest(centroids, _dim, _vectors.AsSpan(i * _dim, _dim)));
        var sizes = new int[_lists];
        foreach (var list in nearest) sizes[list]++;
        var lists = new InvertedLists(_dim, centroids, _capacity, _slots.Length, sizes);
        for (var i = 0; i < _slots.Length; i++) lists.Add(_slots[i], nearest[i], _vectors.AsSpan(i * _dim, _dim));
        Result = lists;
        return this;
    }
}
