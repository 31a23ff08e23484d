// librdkafka's in-process mock cluster: real Kafka protocol on loopback, alive as long as the client that
// created it, so tests and the embedded default get brokers without a Kafka installation.
using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace ContextLake.Connectors.Kafka;

public sealed class MockKafkaCluster : IDisposable
{
    // The cluster belongs to this client; disposing it tears the brokers down.
    private readonly IProducer<byte[]?, byte[]?> _owner;

    /// <param name="brokers">How many mock brokers to start.</param>
    /// <param name="initialRebalanceDelay">How long a new group waits for more members before its first assignment;
    /// librdkafka's mock waits 3 s, like a broker's group.initial.rebalance.delay.ms. Null keeps that default.</param>
    public MockKafkaCluster(int brokers = 1, TimeSpan? initialRebalanceDelay = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _owner = new ProducerBuilder<byte[]?, byte[]?>(config)
            // The owner never produces; its connection chatter is not worth a log line.
            .SetLogHandler((_, _) => { })
            .Build();
        try
        {
            using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            if (metadata.Brokers.Count == 0) throw new InvalidOperationException("the mock cluster reported no brokers");
            BootstrapServers = string.Join(",", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));
            Brokers = metadata.Brokers.Count;
            if (initialRebalanceDelay is { } delay) InitialRebalanceDelayApplied = SetInitialRebalanceDelay(_owner.Handle, delay);
        }
        catch
        {
            _owner.Dispose();
            throw;
        }
    }

    /// <summary>Comma-separated loopback addresses of the mock brokers, for <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; }

    public int Brokers { get; }

    /// <summary>Whether the requested initial rebalance delay took effect (see <see cref="SetInitialRebalanceDelay"/>).</summary>
    public bool InitialRebalanceDelayApplied { get; }

    // Confluent.Kafka does not expose librdkafka's mock API: the native handle sits behind an internal property,
    // and the library is whichever build Confluent chose to load (plain, centos8 or alpine), so the functions are
    // looked up in that loaded module. A test and embedded-default convenience only: when any step fails the
    // cluster still works, with librdkafka's default delay.
    private static bool SetInitialRebalanceDelay(Handle handle, TimeSpan delay)
    {
        try
        {
            var property = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
            if (property?.GetValue(handle) is not SafeHandle native || native.IsInvalid) return false;
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            var module = process.Modules.Cast<System.Diagnostics.ProcessModule>()
                .FirstOrDefault(m => Path.GetFileName(m.FileName).Contains("librdkafka", StringComparison.OrdinalIgnoreCase));
            if (module is null) return false;
            var library = NativeLibrary.Load(module.FileName);
            var mockCluster = Marshal.GetDelegateForFunctionPointer<HandleMockCluster>(NativeLibrary.GetExport(library, "rd_kafka_handle_mock_cluster"));
            var setDelay = Marshal.GetDelegateForFunctionPointer<GroupInitialRebalanceDelay>(NativeLibrary.GetExport(library, "rd_kafka_mock_group_initial_rebalance_delay_ms"));
            var cluster = mockCluster(native.DangerousGetHandle());
            if (cluster == IntPtr.Zero) return false;
            return setDelay(cluster, (int)delay.TotalMilliseconds) == 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException or BadImageFormatException
            or TargetInvocationException or MemberAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr HandleMockCluster(IntPtr rk);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GroupInitialRebalanceDelay(IntPtr mcluster, int delayMs);

    public void Dispose() => _owner.Dispose();
}
