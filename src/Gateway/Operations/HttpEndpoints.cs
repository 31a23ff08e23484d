// Where Kestrel listens for HTTP: ContextLake:Http:Urls, turned into explicit endpoints. Kestrel takes either URLs
// or explicit endpoints, and the Redis protocol listener needs explicit ones, so HTTP is declared the same way.
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ContextLake.Gateway.Operations;

public static class HttpEndpoints
{
    public static void ListenHttp(this KestrelServerOptions kestrel, string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Validated at startup (NodeOptions): absolute http or https URLs.
            var uri = new Uri(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
            var https = uri.Scheme == Uri.UriSchemeHttps;
            void Configure(ListenOptions l)
            {
                if (https) l.UseHttps();
            }
            if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address)) kestrel.Listen(address, uri.Port, Configure);
            else if (uri.IsLoopback)
            {
                // localhost: both loopbacks, as Kestrel binds it from a URL (a dynamic port only on IPv4's).
                if (uri.Port == 0) kestrel.Listen(IPAddress.Loopback, 0, Configure);
                else kestrel.ListenLocalhost(uri.Port, Configure);
            }
            else kestrel.ListenAnyIP(uri.Port, Configure); // a host name: every interface, as Kestrel does with such a URL
        }
    }
}
