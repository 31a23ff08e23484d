// The Redis protocol listener: Kestrel accepts the sockets of ContextLake:Resp:Urls and hands each connection's
// pipes (System.IO.Pipelines) here. Requests are answered in order, pipelined ones together in one flush; a reply
// that has to wait (a read after a position not yet committed) first lets the replies before it go out. Bytes that
// are not a request get one error and close that connection only. When the node stops, Kestrel asks its connections
// to close: an idle one is closed at once, so a connected Redis client never holds the node's shutdown.
using System.Buffers;
using Microsoft.AspNetCore.Connections;
using ContextLake.Gateway.Admin;
using ContextLake.Gateway.Decisions;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Resp;

public sealed class RespConnectionHandler(
    StateReader reader, EpochClock clock, NodeOptions options, RespOptions resp, AdminOptions admin, DecisionLog decisions, DecisionOptions decisionOptions,
    ILogger<RespConnectionHandler> log) : ConnectionHandler
{
    private static long _nextId;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var writer = new RespWriter(output);
        var session = new RespSession(Interlocked.Increment(ref _nextId), reader, clock, options, resp, admin, decisions, decisionOptions);
        var closing = connection.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeNotificationFeature>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, closing?.ConnectionClosedRequested ?? CancellationToken.None);
        var cancel = stop.Token;
        RespMetrics.Connections.Inc();
        try
        {
            var open = true;
            while (open)
            {
                var result = await input.ReadAsync(cancel);
                var buffer = result.Buffer;
                while (open && !buffer.IsEmpty)
                {
                    var frame = RespFrames.Read(buffer, resp.MaxRequestBytes);
                    if (frame.Status == FrameStatus.NeedMore) break;
                    if (frame.Status == FrameStatus.Invalid)
                    {
                        RespMetrics.ProtocolErrors.Inc();
                        writer.Error("ERR " + frame.Problem);
                        buffer = buffer.Slice(buffer.End);
                        open = false;
                        break;
                    }
                    buffer = buffer.Slice(frame.End);
                    if (frame.Arguments.Length == 0) continue;
                    var answer = Execute(session, frame.Arguments, writer, cancel);
                    if (!answer.IsCompleted) await output.FlushAsync(cancel);
                    open = await answer;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync(cancel);
                if (result.IsCompleted) break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or IOException or ConnectionAbortedException)
        {
            // The client went away.
        }
        finally
        {
            RespMetrics.Connections.Dec();
            await input.CompleteAsync();
            await output.CompleteAsync();
        }
    }

    /// <summary>A command that throws still gets an error reply; the connection and the node go on.</summary>
    private async ValueTask<bool> Execute(RespSession session, byte[][] args, RespWriter writer, CancellationToken cancel)
    {
        try
        {
            return await session.ExecuteAsync(args, writer, cancel);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var name = Problem.Shorten(System.Text.Encoding.UTF8.GetString(args[0]));
            log.LogError(ex, "RESP command {Command} failed", name);
            writer.Error($"ERR internal error answering '{name}': {ex.Message}");
            return true;
        }
    }
}

/// <summary>The composition root's wiring of the listener into Kestrel, beside the HTTP endpoints.</summary>
public static class RespListener
{
    public static void ListenResp(this Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, RespOptions resp)
    {
        foreach (var endpoint in resp.Endpoints())
            kestrel.Listen(endpoint, l => l.UseConnectionHandler<RespConnectionHandler>());
    }
}
