// The bank workload a failover scenario runs through every node, and what it saw: writers (batches of transfers with
// idempotency keys, sent again to the next node until acknowledged), strict readers of every account (passing the vector
// they last saw as `after`), stale-ok readers of every account, and strict readers of transfers whose entity partitions
// live on the nodes that survive. A reader's wait for an answer runs from its first attempt on a node other than the
// victim to the answer, across retries: requests to the victim (refused, or hanging while it is paused) start no wait.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;

namespace ContextLake.Gateway.Tests.Cluster;

public sealed class FailoverLoad(NodeCluster nodes, BankLedger ledger, int victim)
{
    public enum Reader
    {
        StrictAll,
        StaleOk,
        SurvivorKeys,
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<Task> _tasks = new();
    private readonly ConcurrentBag<(Reader Kind, TimeSpan Start, TimeSpan End)> _answers = new();
    private readonly ConcurrentDictionary<(Reader Kind, int Reader), TimeSpan> _waiting = new();
    private readonly ConcurrentBag<(TimeSpan Start, TimeSpan End)> _writes = new();
    private readonly List<string> _known = new();
    private readonly List<string> _violations = new();
    private IReadOnlyList<string> _survivorKeys = [];
    private readonly CancellationTokenSource _toVictim = new();
    private volatile bool _stop;
    private volatile int _avoid = -1;
    private long _batches;
    private int _unacknowledged;

    public TimeSpan Now => _clock.Elapsed;

    public long Batches => Interlocked.Read(ref _batches);

    public int Unacknowledged => _unacknowledged;

    public int Answers => _answers.Count;

    public int SurvivorKeyCount => _survivorKeys.Count;

    public IReadOnlyList<string> Violations
    {
        get { lock (_violations) return _violations.ToList(); }
    }

    public void Start()
    {
        for (var w = 0; w < 3; w++)
        {
            var writer = w;
            _tasks.Add(Task.Run(() => Write(writer)));
        }
        for (var r = 0; r < 2; r++)
        {
            var reader = r;
            _tasks.Add(Task.Run(() => ReadAccounts(Reader.StrictAll, reader)));
            _tasks.Add(Task.Run(() => ReadAccounts(Reader.StaleOk, reader)));
        }
    }

    /// <summary>Starts two readers of transfers acknowledged so far whose ids <paramref name="onSurvivor"/> places on a survivor.</summary>
    public async Task ReadSurvivorKeysAsync(Func<string, bool> onSurvivor)
    {
        // The writers go on acknowledging transfers: one of them lands on a survivor's partition soon enough.
        var deadline = Now + TimeSpan.FromSeconds(60);
        while (true)
        {
            lock (_known) _survivorKeys = _known.Where(onSurvivor).ToList();
            if (_survivorKeys.Count > 0) break;
            Assert.True(Now < deadline, "within 60 s no acknowledged transfer lived on a node that survives");
            await Task.Delay(200);
        }
        for (var r = 0; r < 2; r++)
        {
            var reader = r;
            _tasks.Add(Task.Run(() => ReadSurvivorKeys(reader)));
        }
    }

    /// <summary>
    /// The chaos begins: from now on no client sends to the victim; and for 20 s a new probe write goes to a survivor every
    /// 250 ms (each sent again, same idempotency key, until acknowledged), so that when writes are taken again is measured
    /// apart from the writers' requests that went to the lost write log and wait out their timeout. Returns the moment.
    /// </summary>
    public TimeSpan Mark()
    {
        _avoid = victim;
        var at = Now;
        // Requests under way to the victim are dropped (a paused node would hold them): their clients go on with the survivors.
        _toVictim.Cancel();
        _tasks.Add(Task.Run(async () =>
        {
            var probes = new List<Task>();
            for (var p = 0; Now - at < TimeSpan.FromSeconds(20) && !_stop; p++)
            {
                var probe = p;
                probes.Add(Task.Run(() => WriteBatch(1000 + probe, probe, new Random(probe), probe)));
                await Task.Delay(250);
            }
            await Task.WhenAll(probes);
        }));
        return at;
    }

    /// <summary>The victim runs again (restarted or resumed and kept): clients may send to it again.</summary>
    public void Rejoined() => _avoid = -1;

    public async Task WaitForAsync(long batches, int answersEach)
    {
        var deadline = Now + TimeSpan.FromSeconds(120);
        while (Batches < batches || _answers.GroupBy(a => a.Kind).Count(g => g.Count() >= answersEach) < (_survivorKeys.Count > 0 ? 3 : 2) && answersEach > 0)
        {
            Assert.True(Now < deadline, $"within 120 s only {Batches} of {batches} batches were acknowledged, answers: " +
                                        string.Join(", ", _answers.GroupBy(a => a.Kind).Select(g => $"{g.Key} {g.Count()}")) + $"\n{nodes.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>How long after <paramref name="since"/> the first write sent after <paramref name="sentAfter"/> (to a node other than
    /// the victim) was acknowledged.</summary>
    public async Task<TimeSpan?> FirstWriteAcknowledgedAfterAsync(TimeSpan since, TimeSpan sentAfter, TimeSpan timeout)
    {
        while (Now < since + timeout)
        {
            var acknowledged = _writes.Where(w => w.Start >= sentAfter).Select(w => w.End).DefaultIfEmpty(TimeSpan.MaxValue).Min();
            if (acknowledged != TimeSpan.MaxValue) return acknowledged - since;
            await Task.Delay(20);
        }
        return null;
    }

    /// <summary>How long after <paramref name="since"/> the first strict read of every account, begun after <paramref name="sentAfter"/>, was answered.</summary>
    public async Task<TimeSpan?> FirstStrictBankReadStartedAfterAsync(TimeSpan since, TimeSpan sentAfter, TimeSpan timeout)
    {
        while (Now < since + timeout)
        {
            var answered = _answers.Where(a => a.Kind == Reader.StrictAll && a.Start >= sentAfter).Select(a => a.End).DefaultIfEmpty(TimeSpan.MaxValue).Min();
            if (answered != TimeSpan.MaxValue) return answered - since;
            await Task.Delay(20);
        }
        return null;
    }

    /// <summary>The longest wait of a <paramref name="kind"/> reader for an answer that overlaps [from, to] (a wait still open counts
    /// until now), how many answers in it waited over 1 s, and how many answers there were.</summary>
    public (TimeSpan Longest, int Over1s, int Answers) LongestWait(Reader kind, TimeSpan from, TimeSpan to)
    {
        var waits = _answers.Where(a => a.Kind == kind && a.End >= from && a.Start <= to).Select(a => a.End - a.Start).ToList();
        var open = _waiting.Where(w => w.Key.Kind == kind && w.Value <= to).Select(w => Now - w.Value).ToList();
        var all = waits.Concat(open).ToList();
        return (all.DefaultIfEmpty(TimeSpan.Zero).Max(), all.Count(w => w > TimeSpan.FromSeconds(1)), waits.Count);
    }

    public async Task StopAsync()
    {
        _stop = true;
        await Task.WhenAll(_tasks);
    }

    private void Violation(string what)
    {
        lock (_violations) _violations.Add(what);
    }

    private int Next(ref int cursor)
    {
        for (var i = 0; i < nodes.Size; i++)
        {
            cursor = (cursor + 1) % nodes.Size;
            if (cursor != _avoid && nodes.IsRunning(cursor)) return cursor;
        }
        return (cursor + 1) % nodes.Size;
    }

    private async Task<(int Status, JsonElement Body)> Send(int node, string path, string json, TimeSpan timeout)
    {
        if (!nodes.IsRunning(node)) return (0, default);
        try
        {
            using var cancel = node == victim ? CancellationTokenSource.CreateLinkedTokenSource(_toVictim.Token) : new CancellationTokenSource();
            cancel.CancelAfter(timeout);
            using var content = new StringContent(json, Encoding.UTF8);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
            using var response = await nodes[node].Http.PostAsync(path, content, cancel.Token);
            var text = await response.Content.ReadAsStringAsync(cancel.Token);
            return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException or JsonException or InvalidOperationException)
        {
            return (0, default);
        }
    }

    private async Task Write(int w)
    {
        var random = new Random(w + _run.GetHashCode(StringComparison.Ordinal));
        for (var b = 0; !_stop; b++)
        {
            if (!await WriteBatch(w, b, random, w)) return;
            await Task.Delay(20);
        }
    }

    /// <summary>One batch of writer <paramref name="w"/>, sent node after node (same idempotency keys) until acknowledged; false
    /// when it was not within 120 s or was refused.</summary>
    private async Task<bool> WriteBatch(int w, int b, Random random, int cursor)
    {
        var transfers = Enumerable.Range(0, 1 + random.Next(3)).Select(i => Bank.Transfer(random, key: $"{_run}-w{w}-b{b}-e{i}")).ToArray();
        var body = NodeClient.Events(transfers);
        var deadline = Now + TimeSpan.FromSeconds(120);
        while (true)
        {
            if (Now > deadline)
            {
                Interlocked.Increment(ref _unacknowledged);
                return false;
            }
            var node = Next(ref cursor);
            var start = Now;
            var (status, answer) = await Send(node, "v1/events", body, TimeSpan.FromSeconds(15));
            if (status == 200)
            {
                ledger.Acknowledged(transfers, answer);
                if (node != victim) _writes.Add((start, Now));
                lock (_known)
                    foreach (var t in transfers)
                        _known.Add(JsonSerializer.SerializeToElement(t).GetProperty("id").GetString()!);
                Interlocked.Increment(ref _batches);
                return true;
            }
            if (status is not (0 or 202 or 429 or >= 500))
            {
                Violation($"write answered {status}: {answer}");
                return false;
            }
            await Task.Delay(100);
        }
    }

    private async Task ReadAccounts(Reader kind, int r)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        var reads = JsonDocument.Parse(Bank.ReadAllAccounts()).RootElement.GetProperty("reads");
        long lastEpoch = -1;
        var cursor = r + (kind == Reader.StaleOk ? 1 : 0);
        await Loop(kind, r, () => Next(ref cursor), () => kind == Reader.StaleOk
                ? JsonSerializer.Serialize(new { reads, consistency = "stale-ok", timeout = "10s" })
                : JsonSerializer.Serialize(new { reads, after = seen.Select(kv => $"{kv.Key}@{kv.Value}").ToArray(), timeout = "10s" }),
            (node, answer) =>
            {
                if (Bank.Balance(answer) != 0m) Violation($"{kind} reader {r}: unbalanced answer from node {node}: {answer}");
                var epoch = answer.GetProperty("epoch");
                var n = epoch.GetProperty("n").GetInt64();
                if (kind == Reader.StrictAll)
                {
                    if (n < lastEpoch) Violation($"strict reader {r}: node {node} answered epoch {n} after epoch {lastEpoch}");
                    lastEpoch = n;
                    foreach (var s in epoch.GetProperty("vector").EnumerateObject()) seen[s.Name] = s.Value.GetInt64();
                }
            });
    }

    private async Task ReadSurvivorKeys(int r)
    {
        var random = new Random(r);
        var cursor = r;
        await Loop(Reader.SurvivorKeys, r, () => Next(ref cursor), () => JsonSerializer.Serialize(new
        {
            reads = Enumerable.Range(0, 5).Select(_ => new { entity = $"transfer/{_survivorKeys[random.Next(_survivorKeys.Count)]}" }).ToArray(),
            timeout = "10s",
        }), (_, _) => { });
    }

    /// <summary>One reader: reads until stopped, each answer's wait recorded from the first attempt on a node other than the victim.</summary>
    private async Task Loop(Reader kind, int r, Func<int> next, Func<string> body, Action<int, JsonElement> check)
    {
        TimeSpan? since = null;
        while (!_stop)
        {
            var node = next();
            var start = Now;
            if (node != victim && since is null)
            {
                since = start;
                _waiting[(kind, r)] = start;
            }
            var (status, answer) = await Send(node, "v1/read", body(), TimeSpan.FromSeconds(15));
            if (status == 200)
            {
                check(node, answer);
                _answers.Add((kind, since ?? start, Now));
                since = null;
                _waiting.TryRemove((kind, r), out _);
                await Task.Delay(10);
                continue;
            }
            if (status is not (0 or 503 or 504 or 500))
                Violation($"{kind} reader {r}: node {node} answered {status}: {answer}");
            await Task.Delay(20);
        }
        _waiting.TryRemove((kind, r), out _);
    }
}
