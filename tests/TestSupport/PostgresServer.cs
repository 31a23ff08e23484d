// A PostgreSQL server of a test's own (initdb in a temporary folder, loopback port, wal_level=logical),
// for tests that restart the server itself and so cannot share the one the test command started.

namespace ContextLake.Testing;

public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string _bin;

    private PostgresServer(string dir, string bin, int port)
    {
        _dir = dir;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed: run the tests with ./scripts/test.sh, which installs it");
        var dir = Directory.CreateTempSubdirectory("contextlake-pgserver-").FullName;
        if (Environment.UserName == "root") await Run("chown", "postgres:", dir);
        var server = new PostgresServer(dir, bin, NodeProcess.FreePort());
        await server.AsPostgres("initdb", "-D", Path.Combine(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8");
        await server.Ctl("start");
        return server;
    }

    public Task RestartAsync() => Ctl("restart", "-m", "fast");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgres("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "stop");
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private Task Ctl(params string[] args) =>
        AsPostgres("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60",
            .. args, "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10"]);

    private Task AsPostgres(string tool, params string[] args) =>
        Environment.UserName == "root"
            ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : Run(Path.Combine(_bin, tool), args);

    private static async Task Run(string file, params string[] args)
    {
        var (exit, output) = await Command.RunAsync(file, args, TimeSpan.FromMinutes(2));
        if (exit != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({exit}): {output}");
    }
}
