// Rendezvous placement: the node a partition fails over to is the node its standby runs on, a node leaving moves only
// the partitions and standbys it held, and the partitions spread over the nodes.
using Akka.Actor;
using ContextLake.Platform.State;
using Xunit;

namespace ContextLake.Platform.Tests.State;

public sealed class PartitionPlacementSpecs
{
    private static readonly Address[] Nodes =
        Enumerable.Range(0, 5).Select(i => new Address("akka.tcp", "contextlake", "127.0.0.1", 4053 + i)).ToArray();

    [Theory]
    [InlineData("entity")]
    [InlineData("view")]
    public void when_the_owner_is_lost_the_partitions_new_home_is_the_node_of_its_standby(string region)
    {
        for (var p = 0; p < 64; p++)
        {
            var id = KeyGroups.Id(p);
            var owner = PartitionPlacement.Home(region, id, Nodes)!;
            var standby = PartitionPlacement.StandbyNode(region, id, owner, Nodes);
            Assert.NotNull(standby);
            Assert.NotEqual(owner, standby);
            Assert.Equal(standby, PartitionPlacement.Home(region, id, Nodes.Where(n => n != owner)));
        }
    }

    [Fact]
    public void a_node_leaving_moves_only_the_partitions_whose_home_it_was()
    {
        var gone = Nodes[2];
        for (var p = 0; p < 64; p++)
        {
            var id = KeyGroups.Id(p);
            var before = PartitionPlacement.Home("entity", id, Nodes)!;
            var after = PartitionPlacement.Home("entity", id, Nodes.Where(n => n != gone))!;
            if (before != gone) Assert.Equal(before, after);
        }
    }

    [Fact]
    public void partitions_spread_over_the_nodes_even_when_their_addresses_differ_only_in_the_port()
    {
        var three = Nodes.Take(3).ToArray();
        var counts = Enumerable.Range(0, 48).GroupBy(p => PartitionPlacement.Home("entity", KeyGroups.Id(p), three)!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 8, 24));
    }

    [Fact]
    public void a_single_node_has_no_standby_node()
    {
        Assert.Null(PartitionPlacement.StandbyNode("entity", "0", Nodes[0], [Nodes[0]]));
    }
}
