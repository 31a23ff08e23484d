// Key groups: a key's partition is a stable hash of its address modulo the cluster's fixed partition count
// (ContextLake:State:Partitions), as Flink's key groups are. Partitions, not keys, are what the cluster
// places on nodes, persists, recovers and moves; the count never changes for a journal's life.
using System.Globalization;
using System.Text;

namespace ContextLake.Platform.State;

public static class KeyGroups
{
    /// <summary>FNV-1a over UTF-8: the same value for the same address in every process, for the cluster's life.</summary>
    public static uint StableHash(string s)
    {
        var hash = 2166136261u;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(s.Length) <= buffer.Length
            ? buffer[..Encoding.UTF8.GetBytes(s, buffer)]
            : Encoding.UTF8.GetBytes(s);
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return hash;
    }

    /// <summary>The partition of <paramref name="address"/> among <paramref name="partitions"/>.</summary>
    public static int PartitionOf(string address, int partitions) => (int)(StableHash(address) % (uint)partitions);

    /// <summary>A partition's id in its shard region (and the suffix of its persistence id).</summary>
    public static string Id(int partition) => partition.ToString(CultureInfo.InvariantCulture);

    public static int ParseId(string id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p >= 0
            ? p
            : throw new FormatException($"'{id}' is not a partition number");
}
