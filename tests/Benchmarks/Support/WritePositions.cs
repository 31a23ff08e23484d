// Where acknowledged HTTP writes ended, per write stream (a node has one, "http:writes", or several, "http:writes/k"):
// the highest offset each write answer named, gathered from concurrent writers, and the waits and `after` positions
// that make a read or a figure cover all of them.
using System.Text.Json;

namespace ContextLake.Benchmarks.Support;

public sealed class WritePositions
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);

    /// <summary>Takes the stream and last offset of a POST /v1/events answer.</summary>
    public void Add(JsonElement answer) => Add(answer.GetProperty("stream").GetString()!, answer.GetProperty("last").GetInt64());

    public void Add(string stream, long last)
    {
        lock (_last) _last[stream] = Math.Max(_last.GetValueOrDefault(stream), last);
    }

    /// <summary>STREAM@OFFSET of every stream written to.</summary>
    public IReadOnlyList<string> After
    {
        get
        {
            lock (_last) return _last.Select(kv => $"{kv.Key}@{kv.Value}").ToList();
        }
    }

    /// <summary>The query string that reads after every acknowledged write: after=…&amp;after=….</summary>
    public string AfterQuery => string.Join("&", After.Select(p => "after=" + Uri.EscapeDataString(p)));

    /// <summary>Waits until the committed epoch covers every acknowledged write.</summary>
    public async Task WaitCommittedAsync(HttpClient http, TimeSpan deadline)
    {
        List<KeyValuePair<string, long>> last;
        lock (_last) last = _last.ToList();
        foreach (var (stream, offset) in last) await Bench.WaitCommittedAsync(http, stream, offset, deadline);
    }
}
