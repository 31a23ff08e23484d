// Writes RESP replies into the connection's pipe, in the protocol version the client chose with HELLO: RESP2
// (maps as flat arrays, one null) or RESP3 (maps, the null type, attributes). Only what the commands answer.
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace ContextLake.Gateway.Resp;

public sealed class RespWriter(IBufferWriter<byte> output)
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    /// <summary>2 or 3, as negotiated by HELLO (2 until then).</summary>
    public int Protocol { get; set; } = 2;

    public void SimpleString(string text)
    {
        Byte((byte)'+');
        Ascii(text);
        Write(Crlf);
    }

    /// <summary>An error reply; <paramref name="message"/> starts with its code (ERR, NOAUTH, …) and stays on one line.</summary>
    public void Error(string message)
    {
        Byte((byte)'-');
        Utf8(message.Replace('\r', ' ').Replace('\n', ' '));
        Write(Crlf);
    }

    public void Integer(long value)
    {
        Byte((byte)':');
        Number(value);
        Write(Crlf);
    }

    public void Bulk(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        Header((byte)'$', length);
        var span = output.GetSpan(length);
        Encoding.UTF8.GetBytes(text, span);
        output.Advance(length);
        Write(Crlf);
    }

    public void Bulk(ReadOnlySpan<byte> bytes)
    {
        Header((byte)'$', bytes.Length);
        Write(bytes);
        Write(Crlf);
    }

    /// <summary>A missing value: RESP3's null, RESP2's null bulk string.</summary>
    public void Null()
    {
        if (Protocol >= 3) Write("_\r\n"u8);
        else Write("$-1\r\n"u8);
    }

    public void Array(int count) => Header((byte)'*', count);

    /// <summary>An out-of-band message (pub/sub confirmations): RESP3's push type, a RESP2 array.</summary>
    public void Push(int count) => Header(Protocol >= 3 ? (byte)'>' : (byte)'*', count);

    /// <summary>A map of <paramref name="pairs"/> entries (RESP3); in RESP2 an array of twice as many, key then value.</summary>
    public void Map(int pairs)
    {
        if (Protocol >= 3) Header((byte)'%', pairs);
        else Header((byte)'*', 2 * pairs);
    }

    /// <summary>RESP3 attributes before the reply they describe; nothing in RESP2, whose clients would take them for the reply.</summary>
    public bool Attribute(int pairs)
    {
        if (Protocol < 3) return false;
        Header((byte)'|', pairs);
        return true;
    }

    private void Header(byte prefix, long count)
    {
        Byte(prefix);
        Number(count);
        Write(Crlf);
    }

    private void Number(long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    private void Byte(byte b)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }

    private void Ascii(string text)
    {
        var span = output.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        output.Advance(written);
    }

    private void Utf8(string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        output.Advance(written);
    }

    private void Write(ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
