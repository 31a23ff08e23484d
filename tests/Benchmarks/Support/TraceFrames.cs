// Where a CPU profile's time went, from its stacks (TraceEvent reads the nettrace `dotnet-trace collect-linux` writes):
// each sample's leaf frame is its exclusive frame, every distinct frame on its stack is inclusive; frames are grouped by
// what they belong to (our code, Akka, the journal plugin, SQLite, JSON, HTTP, the runtime's native code — GC among it —,
// the JIT, the kernel) so the report can say which layer the node's cores were spent in.
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace ContextLake.Benchmarks.Support;

public sealed record FrameShare(string Frame, string Layer, double Percent);

public sealed record LayerShare(string Layer, double Exclusive, double Inclusive);

public sealed record TraceFrames(long Samples, IReadOnlyList<FrameShare> Exclusive, IReadOnlyList<FrameShare> Inclusive,
    IReadOnlyList<FrameShare> OursInclusive, IReadOnlyList<LayerShare> Layers)
{
    public const string Ours = "ContextLake (our code)";

    /// <summary>Reads the samples of process <paramref name="pid"/> from a nettrace; <paramref name="top"/> frames per list.</summary>
    public static TraceFrames Read(string nettrace, int pid, int top)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(nettrace);
        using var log = new TraceLog(etlx);
        var exclusive = new Dictionary<(string, string), long>();
        var inclusive = new Dictionary<(string, string), long>();
        var layersExclusive = new Dictionary<string, long>();
        var layersInclusive = new Dictionary<string, long>();
        long samples = 0;
        var seen = new HashSet<(string, string)>();
        var seenLayers = new HashSet<string>();
        foreach (var e in log.Events)
        {
            if (e.ProcessID != pid && e.ProcessID > 0) continue;
            var stack = e.CallStack();
            if (stack is null) continue;
            samples++;
            seen.Clear();
            seenLayers.Clear();
            var leaf = true;
            for (var s = stack; s is not null; s = s.Caller)
            {
                var frame = Describe(s.CodeAddress);
                if (leaf)
                {
                    exclusive[frame] = exclusive.GetValueOrDefault(frame) + 1;
                    layersExclusive[frame.Layer] = layersExclusive.GetValueOrDefault(frame.Layer) + 1;
                    leaf = false;
                }
                if (seen.Add(frame)) inclusive[frame] = inclusive.GetValueOrDefault(frame) + 1;
                if (seenLayers.Add(frame.Layer)) layersInclusive[frame.Layer] = layersInclusive.GetValueOrDefault(frame.Layer) + 1;
            }
        }
        try { File.Delete(etlx); } catch (IOException) { }

        double Percent(long n) => samples == 0 ? 0 : n * 100.0 / samples;
        List<FrameShare> Top(IEnumerable<KeyValuePair<(string Frame, string Layer), long>> frames) =>
            frames.OrderByDescending(f => f.Value).Take(top).Select(f => new FrameShare(f.Key.Frame, f.Key.Layer, Percent(f.Value))).ToList();
        return new TraceFrames(samples,
            Top(exclusive),
            // Managed frames only: the native roots every thread shares (start_thread, clone) say nothing.
            Top(inclusive.Where(f => f.Key.Item1.Contains("::", StringComparison.Ordinal))),
            Top(inclusive.Where(f => f.Key.Item2 == Ours)),
            layersInclusive.Keys.Select(l => new LayerShare(l, Percent(layersExclusive.GetValueOrDefault(l)), Percent(layersInclusive[l])))
                .OrderByDescending(l => l.Exclusive).ToList());
    }

    /// <summary>A frame's short name (Type::Method for managed code, module!symbol for native) and its layer.</summary>
    private static (string Frame, string Layer) Describe(TraceCodeAddress address)
    {
        var method = address.FullMethodName ?? "";
        var module = address.ModuleName ?? "";
        // Managed: "instance void [Akka] Akka.Actor.ActorCell::Invoke(valuetype Akka.Actor.Envelope)[OptimizedTier1]".
        var colons = method.IndexOf("::", StringComparison.Ordinal);
        var assemblyEnd = colons > 0 ? method.LastIndexOf("] ", colons, StringComparison.Ordinal) : -1;
        if (assemblyEnd > 0)
        {
            var assemblyStart = method.LastIndexOf('[', assemblyEnd);
            var assembly = method[(assemblyStart + 1)..assemblyEnd];
            var paren = method.IndexOf('(', colons);
            var name = method[(assemblyEnd + 2)..(paren > 0 ? paren : method.Length)];
            return (name, ManagedLayer(assembly));
        }
        var file = Path.GetFileName(module);
        var frame = $"{(file.Length > 0 ? file : "?")}!{(method.Length > 0 ? method : "?")}";
        // Precompiled (ReadyToRun) framework code whose methods the trace does not name: its module is the assembly.
        return (frame, file.Contains('.', StringComparison.Ordinal) && !file.Contains(".so", StringComparison.Ordinal) && !file.Contains(':', StringComparison.Ordinal)
            ? ManagedLayer(file) : NativeLayer(file));
    }

    private static string ManagedLayer(string assembly) => assembly switch
    {
        _ when assembly.StartsWith("ContextLake", StringComparison.OrdinalIgnoreCase) => Ours,
        _ when assembly.StartsWith("Akka.Persistence.Sql", StringComparison.OrdinalIgnoreCase) || assembly.StartsWith("linq2db", StringComparison.OrdinalIgnoreCase) =>
            "journal plugin (Akka.Persistence.Sql, linq2db)",
        _ when assembly.StartsWith("Microsoft.Data.Sqlite", StringComparison.OrdinalIgnoreCase) || assembly.StartsWith("SQLitePCLRaw", StringComparison.OrdinalIgnoreCase) => "SQLite",
        _ when assembly.StartsWith("Akka", StringComparison.OrdinalIgnoreCase) => "Akka (actors, persistence, streams, remoting)",
        _ when assembly.Equals("System.Text.Json", StringComparison.OrdinalIgnoreCase) => "System.Text.Json",
        _ when assembly.StartsWith("Microsoft.AspNetCore", StringComparison.OrdinalIgnoreCase) || assembly.StartsWith("System.Net", StringComparison.OrdinalIgnoreCase) =>
            "HTTP (Kestrel, ASP.NET Core, sockets)",
        _ when assembly.StartsWith("Confluent.Kafka", StringComparison.OrdinalIgnoreCase) => "Kafka client",
        _ when assembly.StartsWith("Prometheus", StringComparison.OrdinalIgnoreCase) => "metrics (prometheus-net)",
        _ => ".NET libraries (CoreLib, collections, threading)",
    };

    private static string NativeLayer(string module) => module switch
    {
        "libcoreclr.so" => "runtime native code (libcoreclr: GC, allocation, casts, stubs)",
        "libclrjit.so" => "JIT (libclrjit)",
        "libe_sqlite3.so" => "SQLite",
        "librdkafka.so" => "Kafka client",
        _ when module.StartsWith("vmlinux", StringComparison.Ordinal) || module.StartsWith("[kernel", StringComparison.Ordinal) => "kernel (syscalls, scheduling, I/O, page faults)",
        _ when module.StartsWith("libc.so", StringComparison.Ordinal) || module.StartsWith("ld-linux", StringComparison.Ordinal) ||
               module.StartsWith("libpthread", StringComparison.Ordinal) => "libc",
        _ when module.StartsWith("memfd:doublemapper", StringComparison.Ordinal) || module.Length == 0 => "managed code without a name (stubs)",
        _ => "other native code",
    };
}
