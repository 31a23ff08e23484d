// One node's HTTP API as the tool calls it: the bearer token on every request, and every failure
// turned into the exit code that says what kind of failure it was.
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ContextLake.Cli;

public sealed class NodeApi : IDisposable
{
    private readonly HttpClient _http;

    public NodeApi(Uri baseUrl, string? token, TimeSpan timeout)
    {
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = baseUrl, Timeout = timeout };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri BaseUrl { get; }

    /// <summary>The answer's body as text (the API's JSON, for --json) and parsed.</summary>
    public sealed record Answer(string Text, JsonElement Json);

    public Task<Answer> GetAsync(string path, CancellationToken cancel) => SendAsync(HttpMethod.Get, path, null, cancel);

    public async Task<Answer> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await Call(() => _http.SendAsync(request, cancel), path);
        var text = await response.Content.ReadAsStringAsync(cancel);
        await ThrowUnlessSuccess(response, text, path);
        return new Answer(text, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Opens a streamed answer (JSON lines); the caller reads it until it has what it wants.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken cancel)
    {
        var response = await Call(() => _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancel), path);
        if (!response.IsSuccessStatusCode)
        {
            using (response) await ThrowUnlessSuccess(response, await response.Content.ReadAsStringAsync(cancel), path);
        }
        return response;
    }

    private async Task<HttpResponseMessage> Call(Func<Task<HttpResponseMessage>> send, string path)
    {
        try
        {
            return await send();
        }
        catch (HttpRequestException ex)
        {
            throw new CliFailure(ExitCodes.Unreachable, $"cannot reach the node at {BaseUrl} ({path}): {ex.Message}");
        }
        catch (TaskCanceledException) when (!_disposed)
        {
            throw new CliFailure(ExitCodes.Unreachable, $"the node at {BaseUrl} did not answer {path} within {_http.Timeout.TotalSeconds:0} s");
        }
    }

    private static Task ThrowUnlessSuccess(HttpResponseMessage response, string text, string path)
    {
        if (response.IsSuccessStatusCode) return Task.CompletedTask;
        var status = (int)response.StatusCode;
        var detail = Describe(text);
        var code = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? ExitCodes.Unauthorized : ExitCodes.Failed;
        var hint = response.StatusCode == HttpStatusCode.Unauthorized ? " (pass the admin token with --token or CONTEXTLAKE_TOKEN)" : "";
        throw new CliFailure(code, $"{path}: HTTP {status} {detail}{hint}");
    }

    /// <summary>An RFC 7807 problem as "title: detail"; any other body as it came.</summary>
    private static string Describe(string text)
    {
        try
        {
            var json = JsonDocument.Parse(text).RootElement;
            if (json.ValueKind == JsonValueKind.Object && json.TryGetProperty("title", out var title))
                return json.TryGetProperty("detail", out var detail) ? $"{title.GetString()}: {detail.GetString()}" : title.GetString() ?? "";
        }
        catch (JsonException)
        {
        }
        return text.Length > 500 ? text[..500] : text;
    }

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        _http.Dispose();
    }
}
