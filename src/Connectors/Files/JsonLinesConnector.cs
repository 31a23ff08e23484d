// The JSON-lines file connector: each line of a file is a record, its line number the offset in the
// stream file:{connector}. It resumes after the committed line and keeps following the file as it grows.
using ContextLake.Connectors.Framework;

namespace ContextLake.Connectors.Files;

public sealed class JsonLinesConnectorFactory : IConnectorFactory
{
    public string Type => "jsonl";

    public ConnectorPlacement Placement => ConnectorPlacement.OncePerCluster;

    public void Validate(ConnectorConfig config)
    {
        config.RequiredString("path");
        RecordMapping.From(config);
        config.OptionalInt("batch", 500, 1, 100_000);
    }

    public IConnectorRun Start(ConnectorConfig config, ConnectorContext context)
    {
        Validate(config);
        return new JsonLinesRun(config, context);
    }
}

internal sealed class JsonLinesRun : IConnectorRun
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);
    private readonly CancellationTokenSource _stop = new();

    public JsonLinesRun(ConnectorConfig config, ConnectorContext context)
    {
        var writer = new ConnectorStream(context, $"file:{context.Name}", RecordMapping.From(config));
        Completion = Task.Run(() => Follow(config.RequiredString("path"), config.OptionalInt("batch", 500, 1, 100_000), writer, context, _stop.Token));
    }

    public Task Completion { get; }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Completion;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task Follow(string path, int batch, ConnectorStream writer, ConnectorContext context, CancellationToken stop)
    {
        await context.EpochKnownAsync(stop);
        var resumeAfter = context.ResumeAfter(writer.Stream);
        long line = 0;
        var pending = new List<RawRecord>();
        var partial = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (!File.Exists(path))
            await Task.Delay(FollowInterval, stop);

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        while (!stop.IsCancellationRequested)
        {
            var read = await file.ReadAsync(buffer, stop);
            if (read == 0)
            {
                // At the end of what is written so far: commit what is pending, then follow the file.
                await writer.WriteAsync(pending, stop);
                pending.Clear();
                await Task.Delay(FollowInterval, stop);
                continue;
            }

            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                partial.Write(buffer, start, i - start);
                start = i + 1;
                line++;
                var bytes = partial.ToArray();
                partial.SetLength(0);
                if (line <= resumeAfter || IsBlank(bytes)) continue;
                pending.Add(new RawRecord(line, bytes));
                if (pending.Count >= batch)
                {
                    await writer.WriteAsync(pending, stop);
                    pending.Clear();
                }
            }
            partial.Write(buffer, start, read - start);
        }
    }

    private static bool IsBlank(byte[] bytes) => bytes.All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r');
}
