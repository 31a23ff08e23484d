// A minimal Server-Sent Events reader over a real HTTP response, for tests and benchmarks of
// GET /v1/subscribe: opens the stream, then hands out events (event, id, data) as they arrive.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ContextLake.Testing;

public sealed record ServerSentEvent(string Event, string? Id, JsonElement Data, DateTimeOffset ReceivedAt);

public sealed class ServerSentEvents : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private ServerSentEvents(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    /// <summary>Characters of event text read so far (comments included).</summary>
    public long CharsRead { get; private set; }

    /// <summary>
    /// Opens <paramref name="path"/>; returns the event stream on 200, else the status and the problem body.
    /// </summary>
    public static async Task<(ServerSentEvents? Events, int Status, JsonElement Problem)> OpenAsync(HttpClient http, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            response.Dispose();
            return (null, status, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
        return (new ServerSentEvents(response, await response.Content.ReadAsStreamAsync()), 200, default);
    }

    /// <summary>The next event (comments skipped); null when the stream ended.</summary>
    public async Task<ServerSentEvent?> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        string kind = "message";
        string? id = null;
        var data = new StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await _reader.ReadLineAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no complete event within {timeout}");
            }
            catch (IOException)
            {
                return null;
            }
            if (line is null) return null;
            CharsRead += line.Length + 1;
            if (line.Length == 0)
            {
                if (data.Length == 0) continue;
                return new ServerSentEvent(kind, id, JsonDocument.Parse(data.ToString()).RootElement.Clone(), DateTimeOffset.UtcNow);
            }
            if (line[0] == ':') continue;
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": kind = value; break;
                case "id": id = value; break;
                case "data": data.Append(value); break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
