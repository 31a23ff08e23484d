// Cuts a client's byte stream into requests: RESP arrays of bulk strings (what every client sends), framed and
// checked by RESPite's scanner and reader, and inline commands (a line of words, as typed into telnet). A request
// that is not yet complete waits for more bytes, up to ContextLake:Resp:MaxRequestBytes.
using System.Buffers;
using System.Text;
using RESPite.Messages;

namespace ContextLake.Gateway.Resp;

public enum FrameStatus
{
    /// <summary>A whole request was read; its arguments are in the result.</summary>
    Request,

    /// <summary>The buffer ends inside a request: read more bytes.</summary>
    NeedMore,

    /// <summary>The bytes are not a request; the message says why. The connection cannot find the next request: close it.</summary>
    Invalid,
}

/// <summary>A request's arguments as sent (binary-safe: ECHO answers its bytes), the command name first.</summary>
public readonly record struct Frame(FrameStatus Status, byte[][] Arguments, SequencePosition End, string? Problem = null);

public static class RespFrames
{
    /// <summary>Longest inline command line (Redis allows 64 KB).</summary>
    private const int MaxInlineBytes = 64 * 1024;

    public static Frame Read(in ReadOnlySequence<byte> buffer, int maxRequestBytes)
    {
        var first = buffer.FirstSpan.Length > 0 ? buffer.FirstSpan[0] : buffer.Slice(0, 1).ToArray()[0];
        return first == (byte)'*' ? ReadArray(buffer, maxRequestBytes) : ReadInline(buffer);
    }

    private static Frame ReadArray(in ReadOnlySequence<byte> buffer, int maxRequestBytes)
    {
        var state = new RespScanState();
        OperationStatus status;
        try
        {
            status = RespFrameScanner.Default.TryRead(ref state, in buffer);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or RESPite.RespException)
        {
            return Invalid(buffer, $"Protocol error: {ex.Message}");
        }
        if (status == OperationStatus.NeedMoreData)
            return buffer.Length > maxRequestBytes
                ? Invalid(buffer, $"Protocol error: request longer than {maxRequestBytes} bytes (setting ContextLake:Resp:MaxRequestBytes)")
                : new Frame(FrameStatus.NeedMore, [], buffer.Start);
        if (status != OperationStatus.Done) return Invalid(buffer, "Protocol error: not a RESP request");
        if (state.TotalBytes > maxRequestBytes)
            return Invalid(buffer, $"Protocol error: request longer than {maxRequestBytes} bytes (setting ContextLake:Resp:MaxRequestBytes)");

        var frame = buffer.Slice(0, state.TotalBytes);
        byte[][] arguments;
        try
        {
            RespFrameScanner.Default.ValidateRequest(in frame);
            var reader = new RespReader(in frame);
            reader.MoveNext();
            arguments = new byte[reader.AggregateLength()][];
            var children = reader.AggregateChildren();
            for (var i = 0; children.MoveNext(); i++) arguments[i] = children.Current.ReadByteArray() ?? [];
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or RESPite.RespException)
        {
            return Invalid(buffer, $"Protocol error: a request is an array of bulk strings ({ex.Message})");
        }
        return new Frame(FrameStatus.Request, arguments, frame.End);
    }

    private static Frame ReadInline(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            return buffer.Length > MaxInlineBytes
                ? Invalid(buffer, $"Protocol error: inline command longer than {MaxInlineBytes} bytes")
                : new Frame(FrameStatus.NeedMore, [], buffer.Start);
        var bytes = line.ToArray();
        if (System.Array.Exists(bytes, b => b == 0 || (b < 0x20 && b is not (byte)'\r' and not (byte)'\t')))
            return Invalid(buffer, "Protocol error: binary bytes where a command was expected (send RESP arrays of bulk strings)");
        var text = Encoding.UTF8.GetString(bytes).TrimEnd('\r');
        var words = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(Encoding.UTF8.GetBytes).ToArray();
        return new Frame(FrameStatus.Request, words, reader.Position);
    }

    private static Frame Invalid(in ReadOnlySequence<byte> buffer, string problem) => new(FrameStatus.Invalid, [], buffer.End, problem);
}
