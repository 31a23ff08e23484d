using ContextLake.Platform.Entities;
using ContextLake.Platform.Events;
using Xunit;

namespace ContextLake.Platform.Tests.Entities;

public sealed class EntityMessageExtractorSpecs
{
    [Fact]
    public void the_shard_of_an_entity_is_the_same_in_every_process()
    {
        // FNV-1a of "account/a1" (checked independently) is a fixed number: a randomized string hash would move shards between nodes.
        Assert.Equal(0xDA11FAABu, EntityMessageExtractor.StableHash("account/a1"));
        var extractor = new EntityMessageExtractor(100);
        var msg = new GetEntity(new EntityKey("account", "a1"));
        Assert.Equal("account/a1", extractor.EntityId(msg));
        Assert.Equal((0xDA11FAABu % 100).ToString(), extractor.ShardId(msg));
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
