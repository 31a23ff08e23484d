// Key groups: a key's partition is a stable hash of its address, the same in every process for the
// journal's life, and a partition is addressed by its number in its shard region (entity id and shard id).
using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using ContextLake.Platform.Hosting;
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.State;

public sealed class KeyGroupSpecs
{
    [Fact]
    public void the_partition_of_a_key_is_the_same_in_every_process()
    {
        // FNV-1a of "account/a1" (checked independently) is a fixed number: a randomized string hash would move keys between partitions.
        Assert.Equal(0xDA11FAABu, KeyGroups.StableHash("account/a1"));
        Assert.Equal((int)(0xDA11FAABu % 16), KeyGroups.PartitionOf("account/a1", 16));
        var long_ = new string('x', 1000) + "é";
        Assert.Equal(KeyGroups.StableHash(long_), KeyGroups.StableHash(new string(long_.ToCharArray())));
    }

    [Fact]
    public void a_partition_message_names_its_partition_as_entity_and_shard()
    {
        var extractor = new PartitionMessageExtractor();
        var read = new ReadEntities("7", 3, [new EntityKey("account", "a1")]);
        Assert.Equal("7", extractor.EntityId(read));
        Assert.Equal("7", extractor.ShardId(read));
        Assert.Null(extractor.EntityId("not a partition message"));
    }

    [Fact]
    public void keys_spread_over_the_partitions()
    {
        var counts = new int[16];
        for (var i = 0; i < 16_000; i++) counts[KeyGroups.PartitionOf($"account/a{i}", 16)]++;
        Assert.All(counts, c => Assert.InRange(c, 700, 1300));
    }

    [Fact]
    public void an_entity_address_splits_at_the_first_slash_so_ids_may_contain_slashes()
    {
        Assert.Equal(new EntityKey("file", "a/b/c"), EntityKey.Parse("file/a/b/c"));
        Assert.Throws<FormatException>(() => EntityKey.Parse("noslash"));
        Assert.False(EntityKey.IsValidType("has/slash"));
        Assert.True(EntityKey.IsValidType("card_tx-v2.1"));
    }
}
