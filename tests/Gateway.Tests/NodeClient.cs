// Small helpers for talking to a node over real HTTP in tests.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Testing;

namespace ContextLake.Gateway.Tests;

public static class NodeClient
{
    /// <summary>
    /// Posts with "Expect: 100-continue", as curl does for large bodies, so a body refused for its size
    /// gets its answer before it is sent.
    /// </summary>
    public static Task<(int Status, JsonElement Body, string? ContentType)> PostJson(this NodeProcess node, string path, string json, string contentType = "application/json") =>
        node.Http.PostJson(path, json, contentType);

    /// <summary>As <see cref="PostJson(NodeProcess, string, string, string)"/>, with any client (an in-process host's).</summary>
    public static async Task<(int Status, JsonElement Body, string? ContentType)> PostJson(this HttpClient http, string path, string json, string contentType = "application/json")
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.ExpectContinue = json.Length > 1024 * 1024;
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await Body(response), response.Content.Headers.ContentType?.MediaType);
    }

    public static async Task<(int Status, JsonElement Body)> PutJson(this NodeProcess node, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await node.Http.PutAsync(path, content);
        return ((int)response.StatusCode, await Body(response));
    }

    public static Task<(int Status, JsonElement Body)> DeleteJson(this NodeProcess node, string path) => node.Http.DeleteJson(path);

    public static async Task<(int Status, JsonElement Body)> DeleteJson(this HttpClient http, string path)
    {
        using var response = await http.DeleteAsync(path);
        return ((int)response.StatusCode, await Body(response));
    }

    public static Task<(int Status, JsonElement Body)> GetJson(this NodeProcess node, string path) => node.Http.GetJson(path);

    public static async Task<(int Status, JsonElement Body)> GetJson(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return ((int)response.StatusCode, await Body(response));
    }

    /// <summary>Reads an entity; <paramref name="after"/> (an http:writes offset, for a node with one write stream) makes the read wait
    /// for that write, up to 30 s: specs assert what is read, not how soon (on a loaded box a run resubmitted after a restart may wait for its retry).</summary>
    public static Task<JsonElement> Entity(this NodeProcess node, string type, string id, long after = 0) =>
        node.Entity(type, id, after > 0 ? $"http:writes@{after}" : null);

    /// <summary>Reads an entity after <paramref name="after"/>, a position STREAM@OFFSET (<see cref="Position"/> of a write answer).</summary>
    public static async Task<JsonElement> Entity(this NodeProcess node, string type, string id, string? after)
    {
        var (status, body) = await node.GetJson($"v1/entities/{type}/{id}" + (after is not null ? $"?after={Uri.EscapeDataString(after)}&timeout=30s" : ""));
        if (status != 200) throw new InvalidOperationException($"GET entity {type}/{id} answered {status}: {body}");
        return body;
    }

    /// <summary>Where a write answer put the end of its batch, STREAM@LAST: what `after` takes to read the batch.</summary>
    public static string Position(JsonElement writeAnswer) =>
        $"{writeAnswer.GetProperty("stream").GetString()}@{writeAnswer.GetProperty("last").GetInt64()}";

    /// <summary>The environment with the node's HTTP writes in one stream ("http:writes"), for specs whose oracle follows one stream's offsets.</summary>
    public static IReadOnlyDictionary<string, string> WithOneWriteStream(this IReadOnlyDictionary<string, string> environment) =>
        new Dictionary<string, string>(environment) { ["ContextLake__Writes__Streams"] = "1" };

    /// <summary>Posts to node <paramref name="node"/> of the cluster; status 0 when it is not running or does not answer.</summary>
    public static async Task<(int Status, JsonElement Body)> TryPostJson(this NodeCluster cluster, int node, string path, string json)
    {
        if (!cluster.IsRunning(node)) return (0, default);
        try
        {
            var (status, body, _) = await cluster[node].PostJson(path, json);
            return (status, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return (0, default);
        }
    }

    public static string Events(params object[] events) => JsonSerializer.Serialize(new { events });

    /// <summary>The highest acknowledged offset of each write stream, from write answers of any thread: `after` for all of them.</summary>
    public sealed class Written
    {
        private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);

        public void Add(JsonElement writeAnswer) => Add(writeAnswer.GetProperty("stream").GetString()!, writeAnswer.GetProperty("last").GetInt64());

        public void Add(string stream, long last)
        {
            lock (_last) _last[stream] = Math.Max(_last.GetValueOrDefault(stream), last);
        }

        /// <summary>STREAM@OFFSET for every stream written to.</summary>
        public string[] After
        {
            get
            {
                lock (_last) return _last.Select(kv => $"{kv.Key}@{kv.Value}").ToArray();
            }
        }

        /// <summary>Events acknowledged over all streams (each stream's offsets are gap-free from 1).</summary>
        public long Total
        {
            get
            {
                lock (_last) return _last.Values.Sum();
            }
        }
    }

    private static async Task<JsonElement> Body(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
