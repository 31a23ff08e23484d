// Bad bytes on the Redis protocol port harm only the connection that sent them. Against one node (SQLite journal,
// ContextLake:Resp:MaxRequestBytes 65536), raw loopback sockets send what no client library would: a command of the
// wrong arity, an unknown command and a write command each get an error and the same connection goes on answering;
// an inline command (plain text, as typed into telnet) is answered; a truncated frame gets no answer and its client
// can leave; a bulk length of 512 MB, binary garbage and arrays that are not arrays of bulk strings (*-1, an integer
// element, a nested array) get one "-ERR Protocol error" and that connection is closed. Throughout, a connection
// opened at the start keeps answering PING and an MGET of known values, GET /readyz stays 200 and the node's
// contextlake_resp_connections gauge returns to that one connection after each bad client. redis-cli (Debian's)
// prints an MGET's error text and PONG.
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ContextLake.Gateway.Tests.Epochs;
using ContextLake.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ContextLake.Gateway.Tests.Resp;

public sealed class RespBadInputSpec(RespBadInputSpec.NodeWithObserver fixture, ITestOutputHelper output) : IClassFixture<RespBadInputSpec.NodeWithObserver>
{
    private const int MaxRequestBytes = 65536;

    /// <summary>The node, the credits it was written, and the connection opened before any bad client.</summary>
    public sealed class NodeWithObserver : SqliteNodeLifetime
    {
        public const int Accounts = 5;

        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["ContextLake__Resp__MaxRequestBytes"] = MaxRequestBytes.ToString(CultureInfo.InvariantCulture),
        };

        /// <summary>credits per account a0…a4 after the writes: (total, n).</summary>
        public Dictionary<string, (decimal Total, long N)> Credits { get; } = new(StringComparer.Ordinal);

        public RespSocket Observer { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await Bank.WaitForViewsAsync(Node);
            var events = Enumerable.Range(0, 40).Select(i =>
            {
                var (from, to, amount) = ($"a{i % Accounts}", $"a{(i + 1) % Accounts}", 10 + i);
                var (total, n) = Credits.GetValueOrDefault(to);
                Credits[to] = (total + amount, n + 1);
                return new { type = "transfer", id = $"t{i}", data = new { from_account = from, to_account = to, amount } };
            }).ToArray<object>();
            var (status, written, _) = await Node.PostJson("v1/events", NodeClient.Events(events));
            Assert.True(status == 200, $"{status} {written}");

            Observer = await RespSocket.ConnectAsync(Node.RespPort, "the observer connection");
            var after = await Observer.CallAsync("CONTEXTLAKE.AFTER", $"http:writes@{written.GetProperty("last").GetInt64()}");
            Assert.True(after.ToString() == "+OK", $"CONTEXTLAKE.AFTER answered {after}");
            await StillServesAsync("the writes");
        }

        public override async Task DisposeAsync()
        {
            if (Observer is not null) await Observer.DisposeAsync();
            await base.DisposeAsync();
        }

        /// <summary>The observer connection answers PING and MGET of every account (and two absent keys) with the written credits,
        /// /readyz is 200, and the node counts one Redis protocol connection open: the observer's.</summary>
        public async Task StillServesAsync(string after)
        {
            Assert.False(Node.HasExited, $"the node exited after {after}:\n{Node.Output}");
            var pong = await Observer.CallAsync("PING");
            Assert.True(pong.ToString() == "+PONG", $"after {after} the observer's PING answered {pong}");

            var keys = Enumerable.Range(0, Accounts).Select(a => $"view:credits:a{a}").Append("view:credits:never-written").Append("entity:account:never-written").ToArray();
            var mget = await Observer.CallAsync(["MGET", .. keys]);
            Assert.True(mget is { Type: '*', Items.Count: Accounts + 2 }, $"after {after} the observer's MGET answered {mget}");
            for (var a = 0; a < Accounts; a++)
            {
                var item = mget.Items![a];
                Assert.True(item is { Type: '$', Text: not null }, $"after {after} {keys[a]} answered {item}");
                using var values = JsonDocument.Parse(item.Text!);
                var (total, n) = Credits[$"a{a}"];
                Assert.True(values.RootElement.GetProperty("total").GetDecimal() == total && values.RootElement.GetProperty("n").GetInt64() == n,
                    $"after {after} {keys[a]} answered {item.Text}, not total {total} and n {n}");
            }
            Assert.True(mget.Items![Accounts].IsNull && mget.Items[Accounts + 1].IsNull, $"after {after} the absent keys answered {mget}");

            using var ready = await Node.Http.GetAsync("readyz");
            Assert.True((int)ready.StatusCode == 200, $"after {after} /readyz answered {(int)ready.StatusCode}: {await ready.Content.ReadAsStringAsync()}");

            // Every bad client is gone by now (closed by the node or by the spec): only the observer's connection is open.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            double open;
            while ((open = await OpenConnectionsAsync()) != 1 && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.True(open == 1, $"after {after} the node counts {open} Redis protocol connections open, not 1 (the observer's)");
        }

        private async Task<double> OpenConnectionsAsync()
        {
            var metrics = await Node.Http.GetStringAsync("metrics");
            var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("contextlake_resp_connections ", StringComparison.Ordinal));
            Assert.True(line is not null, "GET /metrics has no contextlake_resp_connections");
            return double.Parse(line["contextlake_resp_connections ".Length..], CultureInfo.InvariantCulture);
        }
    }

    private NodeProcess NodeProcess => fixture.Node;

    [Fact]
    public async Task a_truncated_frame_gets_no_answer_and_its_client_can_leave()
    {
        const string truncated = "*2\r\n$3\r\nGET\r\n$20\r\nview:cred";
        await using (var client = await Connect("truncated, then FIN"))
        {
            await client.SendAsync(truncated);
            await client.AssertNothingWithinAsync(TimeSpan.FromMilliseconds(500), "a truncated frame");
            client.ShutdownSend();
            var rest = await client.ReadUntilClosedAsync("a truncated frame and the end of the client's stream");
            Assert.True(rest.Length == 0, $"the node answered a truncated frame with '{rest}'");
        }
        await fixture.StillServesAsync("a truncated frame and FIN");

        using (var reset = new TcpClient { LingerState = new LingerOption(true, 0) })
        {
            // Linger 0: closing sends RST instead of FIN, as a client killed mid-request would.
            await reset.ConnectAsync(System.Net.IPAddress.Loopback, NodeProcess.RespPort);
            await reset.GetStream().WriteAsync(Encoding.ASCII.GetBytes(truncated));
            await Task.Delay(100);
        }
        await fixture.StillServesAsync("a truncated frame and a reset");
    }

    [Fact]
    public async Task a_command_of_the_wrong_arity_gets_an_error_and_the_connection_goes_on()
    {
        await using (var client = await Connect("wrong arity"))
        {
            await client.SendAsync("*1\r\n$3\r\nGET\r\n");
            var reply = await client.ReadAsync("the reply to GET without a key");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR wrong number of arguments", StringComparison.Ordinal), $"GET without a key answered {reply}");
            Assert.Contains("'get'", reply.Text!, StringComparison.Ordinal);
            await AssertPongAsync(client, "GET without a key");

            reply = await client.CallAsync("HGET", "view:credits:a0");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR wrong number of arguments", StringComparison.Ordinal), $"HGET with one argument answered {reply}");
            reply = await client.CallAsync("PING", "a", "b");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR wrong number of arguments", StringComparison.Ordinal), $"PING a b answered {reply}");
            await AssertPongAsync(client, "HGET and PING of the wrong arity");
        }
        await fixture.StillServesAsync("commands of the wrong arity");
    }

    [Fact]
    public async Task an_unknown_command_gets_an_error_naming_it_and_the_connection_goes_on()
    {
        await using (var client = await Connect("unknown command"))
        {
            var reply = await client.CallAsync("NOSUCHCOMMAND", "view:credits:a0", "x");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR unknown command 'NOSUCHCOMMAND'", StringComparison.Ordinal), $"NOSUCHCOMMAND answered {reply}");
            await AssertPongAsync(client, "an unknown command");
            var get = await client.CallAsync("GET", "view:credits:a1");
            Assert.True(get is { Type: '$', Text: not null }, $"GET after an unknown command answered {get}");
        }
        await fixture.StillServesAsync("an unknown command");
    }

    [Fact]
    public async Task a_write_command_gets_an_error_naming_it_writes_nothing_and_the_connection_goes_on()
    {
        await using (var client = await Connect("write command"))
        {
            var reply = await client.CallAsync("SET", "view:credits:a0", "{\"total\":1,\"n\":1}");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR", StringComparison.Ordinal) && reply.Text.Contains("'SET'", StringComparison.Ordinal),
                $"SET answered {reply}");
            await AssertPongAsync(client, "SET");
            var get = await client.CallAsync("GET", "view:credits:a0");
            Assert.True(get is { Type: '$', Text: not null }, $"GET after SET answered {get}");
            using var values = JsonDocument.Parse(get.Text!);
            Assert.True(values.RootElement.GetProperty("n").GetInt64() == fixture.Credits["a0"].N, $"after SET, view:credits:a0 is {get.Text}");
        }
        // The observer's MGET checks every account's credits again.
        await fixture.StillServesAsync("a write command");
    }

    [Fact]
    public async Task an_inline_command_is_answered()
    {
        await using (var client = await Connect("inline"))
        {
            await client.SendAsync("PING\r\n");
            var pong = await client.ReadAsync("the reply to an inline PING");
            Assert.True(pong.ToString() == "+PONG", $"inline PING answered {pong}");

            await client.SendAsync("PING hello\r\n");
            var hello = await client.ReadAsync("the reply to an inline PING hello");
            Assert.True(hello is { Type: '$', Text: "hello" }, $"inline PING hello answered {hello}");

            await client.SendAsync("MGET view:credits:a2 view:credits:never-written\r\n");
            var mget = await client.ReadAsync("the reply to an inline MGET");
            Assert.True(mget is { Type: '*', Items.Count: 2 } && mget.Items![0].Type == '$' && mget.Items[1].IsNull, $"inline MGET answered {mget}");
            using var values = JsonDocument.Parse(mget.Items![0].Text!);
            Assert.Equal(fixture.Credits["a2"].N, values.RootElement.GetProperty("n").GetInt64());

            await AssertPongAsync(client, "inline commands");
        }
        await fixture.StillServesAsync("inline commands");
    }

    [Fact]
    public async Task a_bulk_length_of_512_MB_gets_a_protocol_error_and_the_connection_is_closed()
    {
        await using (var client = await Connect("512 MB bulk"))
        {
            await client.SendAsync("*2\r\n$3\r\nGET\r\n$536870912\r\n");
            // The announced 512 MB never come: a little over MaxRequestBytes of junk, in pieces. The node may close the
            // connection before the last piece, so a failed send ends the sending.
            var junk = Encoding.ASCII.GetBytes(new string('x', 4096));
            var sent = 0;
            try
            {
                while (sent < MaxRequestBytes + 4 * junk.Length)
                {
                    await client.SendAsync(junk);
                    sent += junk.Length;
                }
            }
            catch (IOException ex)
            {
                output.WriteLine($"the node closed the connection after {sent} bytes of junk: {ex.Message}");
            }
            var reply = await client.ReadAsync("the reply to a 512 MB bulk string");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR Protocol error", StringComparison.Ordinal), $"a 512 MB bulk string answered {reply}");
            output.WriteLine($"512 MB bulk: {reply}");
            var rest = await client.ReadUntilClosedAsync("the protocol error");
            Assert.True(rest.Length == 0, $"after the protocol error the node sent '{rest}'");
        }
        await fixture.StillServesAsync("a 512 MB bulk string");
    }

    [Fact]
    public async Task binary_garbage_gets_a_protocol_error_and_the_connection_is_closed()
    {
        var random = new Random(20261201);
        var garbage = new byte[4096];
        random.NextBytes(garbage);
        garbage[0] = 0x00;
        garbage[100] = 0x00;
        Assert.Contains((byte)'\n', garbage);

        var star = new byte[garbage.Length + 1];
        star[0] = (byte)'*';
        garbage.CopyTo(star, 1);

        foreach (var (name, bytes) in new[] { ("garbage starting with 0x00", garbage), ("'*' then garbage", star) })
        {
            await AssertProtocolErrorAndCloseAsync(name, bytes);
        }
    }

    [Theory]
    [InlineData("*-1\r\n")]
    [InlineData("*1\r\n:5\r\n")]
    [InlineData("*2\r\n$3\r\nGET\r\n:5\r\n")]
    [InlineData("*1\r\n*1\r\n$4\r\nPING\r\n")]
    [InlineData("*1\r\n+PING\r\n")]
    public async Task an_array_that_is_not_an_array_of_bulk_strings_gets_a_protocol_error_and_the_connection_is_closed(string request)
    {
        // A PING behind it is never answered: the node cannot find where the next request starts.
        await AssertProtocolErrorAndCloseAsync(request.Replace("\r\n", "\\r\\n", StringComparison.Ordinal),
            System.Text.Encoding.UTF8.GetBytes(request + "*1\r\n$4\r\nPING\r\n"));
    }

    [Fact]
    public async Task redis_cli_prints_an_mget_error_and_pong()
    {
        var port = NodeProcess.RespPort.ToString(CultureInfo.InvariantCulture);
        var (code, text) = await RedisCli(port, "MGET", "view:credits:a0", "view:nope:x");
        Assert.True(code >= 0, text);
        Assert.True(text.Contains("ERR", StringComparison.Ordinal) && text.Contains("no view named 'nope'", StringComparison.Ordinal),
            $"redis-cli MGET view:credits:a0 view:nope:x (exit code {code}) printed: {text}");
        output.WriteLine($"redis-cli MGET with an unknown view, exit code {code}: {text.Trim()}");

        (code, text) = await RedisCli(port, "PING");
        Assert.True(code == 0 && text.Trim() == "PONG", $"redis-cli PING (exit code {code}) printed: {text}");

        (code, text) = await RedisCli(port, "MGET", "view:credits:a0", "view:credits:never-written");
        var lines = text.Split('\n', StringSplitOptions.TrimEntries);
        Assert.True(code == 0 && lines.Length >= 2 && lines[0].StartsWith('{') && lines[1].Length == 0,
            $"redis-cli MGET view:credits:a0 view:credits:never-written (exit code {code}) printed: {text}");
        using var values = JsonDocument.Parse(lines[0]);
        Assert.Equal(fixture.Credits["a0"].N, values.RootElement.GetProperty("n").GetInt64());

        await fixture.StillServesAsync("redis-cli");
    }

    private static async Task<(int Code, string Output)> RedisCli(string port, params string[] args)
    {
        const string cli = "/usr/bin/redis-cli";
        Assert.True(File.Exists(cli), $"{cli} is missing: install Debian's redis-server package (scripts/test.sh does)");
        return await Command.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, .. args], TimeSpan.FromSeconds(15));
    }

    /// <summary>Sends <paramref name="bytes"/> on a new connection: one protocol error, then the node closes it and still serves the others.</summary>
    private async Task AssertProtocolErrorAndCloseAsync(string name, byte[] bytes)
    {
        await using (var client = await Connect(name))
        {
            await client.SendAsync(bytes);
            var reply = await client.ReadAsync($"the reply to {name}");
            Assert.True(reply.IsError && reply.Text!.StartsWith("ERR Protocol error", StringComparison.Ordinal), $"{name} answered {reply}");
            output.WriteLine($"{name}: {reply}");
            var rest = await client.ReadUntilClosedAsync($"the protocol error for {name}");
            Assert.True(rest.Length == 0, $"after the protocol error for {name} the node sent '{rest}'");
        }
        await fixture.StillServesAsync(name);
    }

    private Task<RespSocket> Connect(string name) => RespSocket.ConnectAsync(NodeProcess.RespPort, $"client '{name}'");

    private static async Task AssertPongAsync(RespSocket client, string after)
    {
        var pong = await client.CallAsync("PING");
        Assert.True(pong.ToString() == "+PONG", $"after {after} the same connection's PING answered {pong}");
    }
}
