// The LSN helper agrees with PostgreSQL's text form and with Npgsql's type in both directions.
using ContextLake.Connectors.Cdc;
using Xunit;

namespace ContextLake.Connectors.Tests.Cdc;

public sealed class CdcLsnSpecs
{
    [Theory]
    [InlineData(0x16B3748UL, "0/16B3748")]
    [InlineData(0x16_B374D848UL, "16/B374D848")]
    [InlineData(0UL, "0/0")]
    [InlineData(ulong.MaxValue, "FFFFFFFF/FFFFFFFF")]
    public void an_lsn_round_trips_through_text_and_the_npgsql_type(ulong lsn, string text)
    {
        Assert.Equal(text, CdcLsn.Format(lsn));
        Assert.Equal(lsn, CdcLsn.Parse(text));
        Assert.Equal(text, CdcLsn.ToNpgsql(lsn).ToString());
        Assert.Equal(lsn, CdcLsn.FromNpgsql(CdcLsn.ToNpgsql(lsn)));
    }

    [Fact]
    public void text_that_is_not_an_lsn_is_rejected() => Assert.Throws<FormatException>(() => CdcLsn.Parse("16-B374D848"));
}
