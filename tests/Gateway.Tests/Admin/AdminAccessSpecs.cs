// Who may call /admin/…: the bearer token when one is configured, loopback callers when none is.
using System.Net;
using ContextLake.Gateway.Admin;
using Xunit;

namespace ContextLake.Gateway.Tests.Admin;

public sealed class AdminAccessSpecs
{
    private const string Token = "0123456789abcdef-token";
    private static readonly IPAddress Remote = IPAddress.Parse("192.0.2.10");

    [Theory]
    [InlineData("Bearer " + Token)]
    [InlineData("bearer " + Token)]
    [InlineData("Bearer  " + Token + " ")]
    public void the_configured_token_is_allowed_from_anywhere(string header) =>
        Assert.Equal(AdminVerdict.Allowed, AdminAccess.Judge(Token, header, Remote));

    [Theory]
    [InlineData("Bearer 0123456789abcdef-tokeN")]
    [InlineData("Bearer 0123456789abcdef-token-and-more")]
    [InlineData("Bearer 0123456789abcdef-toke")]
    [InlineData("Bearer ")]
    public void any_other_token_is_wrong_even_from_loopback(string header) =>
        Assert.Equal(AdminVerdict.WrongToken, AdminAccess.Judge(Token, header, IPAddress.Loopback));

    [Theory]
    [InlineData(null)]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData(Token)]
    public void a_request_without_a_bearer_token_is_missing_one(string? header) =>
        Assert.Equal(AdminVerdict.MissingToken, AdminAccess.Judge(Token, header, IPAddress.Loopback));

    [Fact]
    public void without_a_configured_token_only_loopback_callers_are_allowed()
    {
        Assert.Equal(AdminVerdict.Allowed, AdminAccess.Judge(null, null, IPAddress.Loopback));
        Assert.Equal(AdminVerdict.Allowed, AdminAccess.Judge("", "Bearer anything", IPAddress.IPv6Loopback));
        Assert.Equal(AdminVerdict.NotLoopback, AdminAccess.Judge(null, null, Remote));
        Assert.Equal(AdminVerdict.NotLoopback, AdminAccess.Judge("", "Bearer " + Token, Remote));
        Assert.Equal(AdminVerdict.NotLoopback, AdminAccess.Judge(null, null, null));
    }

    [Fact]
    public void tokens_compare_equal_only_when_identical()
    {
        Assert.True(AdminAccess.TokensEqual(Token, Token));
        Assert.False(AdminAccess.TokensEqual(Token, Token.ToUpperInvariant()));
        Assert.False(AdminAccess.TokensEqual(Token, ""));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("0123456789abcdef", true)]
    [InlineData("short", false)]
    [InlineData(" 0123456789abcdef ", false)]
    public void a_configured_token_must_be_long_enough_and_unpadded(string? token, bool valid)
    {
        var errors = new AdminOptions { Token = token }.Validate();
        Assert.Equal(valid, errors.Count == 0);
        if (!valid) Assert.Contains("ContextLake:Admin:Token", errors[0]);
    }
}
