// The Redis protocol listener's settings (ContextLake:Resp): where it listens (loopback by default, off when
// empty) and the bounds a client cannot push past: one request's bytes and the keys one command reads.
using System.Globalization;
using System.Net;

namespace ContextLake.Gateway.Resp;

public sealed class RespOptions
{
    public const string Section = "ContextLake:Resp";

    /// <summary>host:port endpoints separated by ';' (e.g. "127.0.0.1:6380"); empty turns the Redis protocol off.</summary>
    public string Urls { get; set; } = "127.0.0.1:6380";

    /// <summary>The most bytes one request (one command with its arguments) may take; a longer one closes the connection.</summary>
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>The most keys one MGET (or EXISTS) reads at one epoch, like POST /v1/read's reads.</summary>
    public int MaxKeysPerCommand { get; set; } = 1000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var url in Split(Urls))
            if (!TryParseEndpoint(url, out _))
                errors.Add($"{Section}:Urls: '{url}' is not host:port (an IP address or localhost, and a port 0-65535), e.g. 127.0.0.1:6380");
        if (MaxRequestBytes is < 1024 or > 512 * 1024 * 1024)
            errors.Add($"{Section}:MaxRequestBytes: must be 1024 to 536870912 (is {MaxRequestBytes})");
        if (MaxKeysPerCommand is < 1 or > 100_000)
            errors.Add($"{Section}:MaxKeysPerCommand: must be 1 to 100000 (is {MaxKeysPerCommand})");
        return errors;
    }

    /// <summary>The endpoints to listen on (none: the Redis protocol is off). Call after <see cref="Validate"/>.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints() => Split(Urls).Select(u => TryParseEndpoint(u, out var e) ? e : throw new FormatException(u)).ToList();

    private static IEnumerable<string> Split(string? urls) =>
        (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>"host:port" with an IP address (IPv6 in brackets) or localhost; a redis:// or tcp:// prefix is allowed.</summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        foreach (var scheme in new[] { "redis://", "tcp://" })
            if (text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) text = text[scheme.Length..];
        var colon = text.LastIndexOf(':');
        if (colon <= 0) return false;
        var host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535) return false;
        IPAddress? address = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed : null;
        if (address is null) return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
