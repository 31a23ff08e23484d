// A raw Redis protocol client over one loopback TcpClient, for specs that send bytes no Redis client library would:
// it writes exactly the bytes given and reads replies back (simple strings, errors, integers, bulk strings, arrays,
// RESP3 nulls), every read bounded by a timeout so that a node that never answers fails the spec instead of
// blocking it.
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace ContextLake.Gateway.Tests.Resp;

/// <summary>One reply: its type byte ('+', '-', ':', '$', '*', '_'), its text (simple string, error, integer or bulk), its items (arrays).</summary>
public sealed record RespReply(char Type, string? Text, IReadOnlyList<RespReply>? Items)
{
    public bool IsNull => Type == '_' || (Type is '$' or '*' && Text is null && Items is null);

    public bool IsError => Type == '-';

    public override string ToString() => Type switch
    {
        '*' when Items is not null => $"[{string.Join(", ", Items)}]",
        _ when IsNull => "(nil)",
        _ => $"{Type}{Text}",
    };
}

public sealed class RespSocket : IAsyncDisposable
{
    /// <summary>How long any one reply may take before the spec fails.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(15);

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RespSocket(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public string Name { get; private init; } = "";

    public static async Task<RespSocket> ConnectAsync(int port, string name)
    {
        var client = new TcpClient { NoDelay = true };
        using var cts = new CancellationTokenSource(ReplyTimeout);
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cts.Token);
        return new RespSocket(client) { Name = name };
    }

    /// <summary>A command as every client sends it: an array of bulk strings.</summary>
    public static byte[] Command(params string[] args)
    {
        var text = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) text.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(ReplyTimeout);
        await _stream.WriteAsync(bytes, cts.Token);
        await _stream.FlushAsync(cts.Token);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends one command (an array of bulk strings) and reads its reply.</summary>
    public async Task<RespReply> CallAsync(params string[] args)
    {
        await SendAsync(Command(args));
        return await ReadAsync($"the reply to {string.Join(' ', args.Take(4))}");
    }

    /// <summary>Ends the sending side (FIN): the node sees the end of the stream, this side can still read.</summary>
    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>The next reply; fails the spec when the node closes the connection first or sends nothing within the timeout.</summary>
    public async Task<RespReply> ReadAsync(string what)
    {
        using var cts = new CancellationTokenSource(ReplyTimeout);
        try
        {
            return await ReplyAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"{Name}: {what} did not come within {ReplyTimeout.TotalSeconds} s (received so far: '{Pending()}')");
            throw;
        }
        catch (EndOfStreamException)
        {
            Assert.Fail($"{Name}: the node closed the connection instead of sending {what} (received: '{Pending()}')");
            throw;
        }
        catch (IOException ex)
        {
            Assert.Fail($"{Name}: the connection broke instead of sending {what}: {ex.Message} (received: '{Pending()}')");
            throw;
        }
    }

    /// <summary>
    /// Reads until the node closes the connection (end of stream, or a reset after it closed with bytes of ours unread) and
    /// returns whatever came before; fails the spec when the connection is still open after the timeout.
    /// </summary>
    public async Task<string> ReadUntilClosedAsync(string after)
    {
        using var cts = new CancellationTokenSource(ReplyTimeout);
        var rest = new StringBuilder(Pending());
        _start = _end = 0;
        var chunk = new byte[16 * 1024];
        try
        {
            for (var total = 0; total < 10 * 1024 * 1024;)
            {
                var n = await _stream.ReadAsync(chunk, cts.Token);
                if (n == 0) return rest.ToString();
                total += n;
                rest.Append(Printable(chunk.AsSpan(0, n)));
            }
            Assert.Fail($"{Name}: after {after} the node sent more than 10 MB and kept the connection open");
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"{Name}: the node kept the connection open {ReplyTimeout.TotalSeconds} s after {after} (received: '{rest}')");
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return rest.ToString();
        }
        return rest.ToString();
    }

    /// <summary>
    /// Sends one command and returns the reply's bytes as text, as they came (for replies this reader does not parse:
    /// RESP3 maps and attributes): what arrives until the socket is quiet for a moment after the first bytes.
    /// </summary>
    public async Task<string> CallRawAsync(params string[] args)
    {
        Assert.True(_end == _start, $"{Name}: unread bytes before {args[0]}: '{Pending()}'");
        await SendAsync(Command(args));
        var reply = new StringBuilder();
        var chunk = new byte[16 * 1024];
        using (var first = new CancellationTokenSource(ReplyTimeout))
        {
            var n = await _stream.ReadAsync(chunk, first.Token);
            reply.Append(Encoding.UTF8.GetString(chunk, 0, n));
        }
        while (true)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
            int n;
            try
            {
                n = await _stream.ReadAsync(chunk, quiet.Token);
            }
            catch (OperationCanceledException) when (quiet.IsCancellationRequested)
            {
                return reply.ToString();
            }
            if (n == 0) return reply.ToString();
            reply.Append(Encoding.UTF8.GetString(chunk, 0, n));
        }
    }

    /// <summary>Fails the spec when any byte arrives within <paramref name="quiet"/>: the node is to wait for the rest of a request.</summary>
    public async Task AssertNothingWithinAsync(TimeSpan quiet, string after)
    {
        Assert.True(_end == _start, $"{Name}: unread bytes after {after}: '{Pending()}'");
        using var cts = new CancellationTokenSource(quiet);
        var chunk = new byte[1024];
        int n;
        try
        {
            n = await _stream.ReadAsync(chunk, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return;
        }
        Assert.Fail(n == 0
            ? $"{Name}: the node closed the connection after {after}, where it was to wait for the rest"
            : $"{Name}: the node answered {after} before it was complete: '{Printable(chunk.AsSpan(0, n))}'");
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }

    private async Task<RespReply> ReplyAsync(CancellationToken cancel)
    {
        var line = await LineAsync(cancel);
        if (line.Length == 0) throw new InvalidDataException($"{Name}: an empty line where a reply was expected");
        var type = line[0];
        var rest = line[1..];
        switch (type)
        {
            case '+' or '-' or ':':
                return new RespReply(type, rest, null);
            case '_':
                return new RespReply(type, null, null);
            case '$':
                var length = int.Parse(rest, System.Globalization.CultureInfo.InvariantCulture);
                if (length < 0) return new RespReply(type, null, null);
                var bytes = await BytesAsync(length + 2, cancel);
                return new RespReply(type, Encoding.UTF8.GetString(bytes, 0, length), null);
            case '*':
                var count = int.Parse(rest, System.Globalization.CultureInfo.InvariantCulture);
                if (count < 0) return new RespReply(type, null, null);
                var items = new List<RespReply>(count);
                for (var i = 0; i < count; i++) items.Add(await ReplyAsync(cancel));
                return new RespReply(type, null, items);
            default:
                throw new InvalidDataException($"{Name}: not a reply this client reads: '{line}'");
        }
    }

    private async Task<string> LineAsync(CancellationToken cancel)
    {
        while (true)
        {
            var lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (lf > _start && _buffer[lf - 1] == '\r')
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, lf - 1 - _start);
                _start = lf + 1;
                return line;
            }
            await FillAsync(cancel);
        }
    }

    private async Task<byte[]> BytesAsync(int count, CancellationToken cancel)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_end == _start) await FillAsync(cancel);
            var n = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private async Task FillAsync(CancellationToken cancel)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new InvalidDataException($"{Name}: a reply line longer than {_buffer.Length} bytes");
        var n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancel);
        if (n == 0) throw new EndOfStreamException();
        _end += n;
    }

    private string Pending() => Printable(_buffer.AsSpan(_start, _end - _start));

    private static string Printable(ReadOnlySpan<byte> bytes) =>
        Encoding.UTF8.GetString(bytes).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
