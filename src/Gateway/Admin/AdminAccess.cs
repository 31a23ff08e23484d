// Who may call /admin/…: with ContextLake:Admin:Token set, whoever sends "Authorization: Bearer <token>";
// without one, only callers on the loopback interface (the node's own machine).
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ContextLake.Gateway.Problems;

namespace ContextLake.Gateway.Admin;

public sealed class AdminOptions
{
    public const string Section = "ContextLake:Admin";

    /// <summary>The bearer token every /admin request must carry; empty: admin answers loopback callers only.</summary>
    public string? Token { get; set; }

    /// <summary>Shortest token accepted, so that a guessable one is refused at startup rather than trusted.</summary>
    public const int MinTokenLength = 16;

    public IReadOnlyList<string> Validate() =>
        string.IsNullOrEmpty(Token) || (Token.Length >= MinTokenLength && Token.Trim() == Token)
            ? []
            : [$"{Section}:Token: must be at least {MinTokenLength} characters without surrounding spaces (it has {Token.Length})"];
}

public enum AdminVerdict
{
    Allowed,
    MissingToken,
    WrongToken,
    NotLoopback,
}

public static class AdminAccess
{
    /// <summary>Judges one request; the token comparison takes the same time whatever the bytes sent.</summary>
    public static AdminVerdict Judge(string? configuredToken, string? authorizationHeader, IPAddress? remote)
    {
        if (string.IsNullOrEmpty(configuredToken))
            return remote is not null && IPAddress.IsLoopback(remote) ? AdminVerdict.Allowed : AdminVerdict.NotLoopback;
        const string scheme = "Bearer ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return AdminVerdict.MissingToken;
        var presented = authorizationHeader[scheme.Length..].Trim();
        return TokensEqual(configuredToken, presented) ? AdminVerdict.Allowed : AdminVerdict.WrongToken;
    }

    /// <summary>Hashing first makes both sides one length, so neither the content nor the length leaks through timing.</summary>
    public static bool TokensEqual(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)),
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>The refusal a verdict other than Allowed gets.</summary>
    public static IResult Refusal(AdminVerdict verdict, HttpContext context)
    {
        switch (verdict)
        {
            case AdminVerdict.MissingToken:
            case AdminVerdict.WrongToken:
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"contextlake-admin\"";
                return new Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
                    verdict == AdminVerdict.MissingToken
                        ? $"{context.Request.Path} needs the header 'Authorization: Bearer <token>' with the token of setting {AdminOptions.Section}:Token"
                        : $"the bearer token sent to {context.Request.Path} is not the one of setting {AdminOptions.Section}:Token").ToResult();
            default:
                return new Problem(StatusCodes.Status403Forbidden, "Admin is loopback-only",
                    $"{context.Request.Path} answers only callers on this machine while setting {AdminOptions.Section}:Token " +
                    $"(environment ContextLake__Admin__Token) is empty; set a token to call it from {context.Connection.RemoteIpAddress}").ToResult();
        }
    }

    /// <summary>Puts every endpoint of the group behind the token (or loopback) check.</summary>
    public static RouteGroupBuilder RequireAdmin(this RouteGroupBuilder group, AdminOptions options) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var verdict = Judge(options.Token, http.Request.Headers.Authorization.ToString() is { Length: > 0 } h ? h : null, http.Connection.RemoteIpAddress);
            return verdict == AdminVerdict.Allowed ? await next(context) : Refusal(verdict, http);
        });
}
