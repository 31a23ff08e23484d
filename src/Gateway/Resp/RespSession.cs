// One Redis protocol connection: its protocol version (HELLO), whether it is authenticated (AUTH with the admin
// token, when one is set), its read point (CONTEXTLAKE.AFTER / AT / CONSISTENCY / TIMEOUT, like the HTTP read's
// after, epoch, consistency and timeout), the epoch of its last answer (CONTEXTLAKE.EPOCH) and the decision its next
// read is (CONTEXTLAKE.DECISION, RespSession.Decisions.cs). It answers the reads GET, MGET, HGET, HMGET, HGETALL and
// EXISTS, each at one committed epoch, and what clients send to connect; a write or an unknown command gets an error
// naming it, never a disconnect. In RESP3, CONTEXTLAKE.ATTRIBUTES ON puts the epoch before every read's reply as an
// attribute (|1 epoch N).
using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ContextLake.Gateway.Admin;
using ContextLake.Gateway.Decisions;
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;
using ContextLake.Platform.Epochs;
using ContextLake.Platform.Hosting;

namespace ContextLake.Gateway.Resp;

public sealed partial class RespSession(
    long id, StateReader reader, EpochClock clock, NodeOptions options, RespOptions resp, AdminOptions admin, DecisionLog decisions, DecisionOptions decisionOptions)
{
    /// <summary>The Redis version clients are told (they pick commands by it); ContextLake answers the reads of Redis 7.2.</summary>
    public const string CompatibleRedisVersion = "7.2.0";

    /// <summary>Commands that would change data in Redis: refused with a pointer to where writes go.</summary>
    private static readonly HashSet<string> Writes = new(StringComparer.OrdinalIgnoreCase)
    {
        "SET", "SETNX", "SETEX", "PSETEX", "MSET", "MSETNX", "APPEND", "SETRANGE", "INCR", "INCRBY", "INCRBYFLOAT", "DECR", "DECRBY",
        "GETSET", "GETDEL", "GETEX", "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "RENAME", "RENAMENX",
        "COPY", "MOVE", "HSET", "HSETNX", "HMSET", "HDEL", "HINCRBY", "HINCRBYFLOAT", "LPUSH", "RPUSH", "LPOP", "RPOP", "LSET", "LREM",
        "SADD", "SREM", "SPOP", "ZADD", "ZREM", "ZINCRBY", "XADD", "XDEL", "FLUSHDB", "FLUSHALL", "PUBLISH", "EVAL", "EVALSHA", "FCALL",
    };

    /// <summary>Arity per command, the name included: at least Min arguments, at most Max (-1: any number).</summary>
    private static readonly Dictionary<string, (int Min, int Max, string Flags)> Arity = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GET"] = (2, 2, "readonly fast"),
        ["MGET"] = (2, -1, "readonly fast"),
        ["HGET"] = (3, 3, "readonly fast"),
        ["HMGET"] = (3, -1, "readonly fast"),
        ["HGETALL"] = (2, 2, "readonly"),
        ["EXISTS"] = (2, -1, "readonly fast"),
        ["PING"] = (1, 2, "fast"),
        ["ECHO"] = (2, 2, "fast"),
        ["HELLO"] = (1, -1, "fast noauth"),
        ["AUTH"] = (2, 3, "fast noauth"),
        ["CLIENT"] = (2, -1, "fast"),
        ["SELECT"] = (2, 2, "fast"),
        ["COMMAND"] = (1, -1, "fast"),
        ["INFO"] = (1, -1, "fast"),
        ["CONFIG"] = (2, -1, "fast"),
        ["CLUSTER"] = (2, -1, "fast"),
        ["SUBSCRIBE"] = (2, -1, "pubsub"),
        ["PSUBSCRIBE"] = (2, -1, "pubsub"),
        ["UNSUBSCRIBE"] = (1, -1, "pubsub"),
        ["PUNSUBSCRIBE"] = (1, -1, "pubsub"),
        ["QUIT"] = (1, 1, "fast noauth"),
        ["RESET"] = (1, 1, "fast noauth"),
        ["CONTEXTLAKE.EPOCH"] = (1, 1, "fast"),
        ["CONTEXTLAKE.AFTER"] = (2, -1, "fast"),
        ["CONTEXTLAKE.AT"] = (2, 2, "fast"),
        ["CONTEXTLAKE.CONSISTENCY"] = (2, 2, "fast"),
        ["CONTEXTLAKE.TIMEOUT"] = (2, 2, "fast"),
        ["CONTEXTLAKE.ATTRIBUTES"] = (2, 2, "fast"),
        ["CONTEXTLAKE.DECISION"] = (2, 3, "fast"),
    };

    /// <summary>The epoch as GET /v1/epoch and every HTTP read answer write it.</summary>
    private static readonly JsonSerializerOptions EpochJson = new(JsonSerializerOptions.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly ArrayBufferWriter<byte> _json = new(256);
    private readonly HashSet<string> _channels = new(StringComparer.Ordinal);
    private bool _authenticated = string.IsNullOrEmpty(admin.Token);
    private string? _name;
    private List<string> _after = [];
    private long? _pinned;
    private string? _consistency;
    private string? _timeout;
    private ReadPoint? _lastRead;
    private bool _attributes;

    public int Protocol { get; private set; } = 2;

    /// <summary>Answers one command into <paramref name="w"/>; false when the connection is to close after the reply (QUIT).</summary>
    public async ValueTask<bool> ExecuteAsync(byte[][] raw, RespWriter w, CancellationToken cancel)
    {
        // Names, keys and settings are UTF-8 text; PING and ECHO answer their argument's bytes as sent.
        var args = new string[raw.Length];
        for (var i = 0; i < raw.Length; i++) args[i] = Encoding.UTF8.GetString(raw[i]);
        var name = args[0];
        var known = Arity.TryGetValue(name, out var arity);
        var label = known ? name.ToUpperInvariant() : "other";
        var ok = true;
        try
        {
            if (!known)
            {
                ok = false;
                w.Error(Writes.Contains(name)
                    ? $"ERR ContextLake answers reads over the Redis protocol; '{name}' would write: send events with POST /v1/events or through a connector"
                    : $"ERR unknown command '{Problem.Shorten(name)}', with args beginning with: {string.Join(" ", args.Skip(1).Take(3).Select(a => $"'{Problem.Shorten(a)}'"))}");
                return true;
            }
            if (args.Length < arity.Min || (arity.Max >= 0 && args.Length > arity.Max))
            {
                ok = false;
                w.Error($"ERR wrong number of arguments for '{name.ToLowerInvariant()}' command");
                return true;
            }
            if (!_authenticated && !arity.Flags.Contains("noauth", StringComparison.Ordinal))
            {
                ok = false;
                w.Error("NOAUTH Authentication required.");
                return true;
            }
            var (keep, fine) = await DispatchAsync(label, args, raw, w, cancel);
            ok = fine;
            return keep;
        }
        finally
        {
            RespMetrics.Commands.WithLabels(label, ok ? "ok" : "error").Inc();
        }
    }

    private async ValueTask<(bool Keep, bool Ok)> DispatchAsync(string command, string[] args, byte[][] raw, RespWriter w, CancellationToken cancel)
    {
        switch (command)
        {
            case "GET":
            case "MGET":
            case "HGET":
            case "HMGET":
            case "HGETALL":
            case "EXISTS":
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var readOk = await ReadAsync(command, args, w, cancel);
                RespMetrics.ReadSeconds.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                return (true, readOk);
            case "PING":
                if (args.Length == 2) w.Bulk(raw[1]);
                else w.SimpleString("PONG");
                return (true, true);
            case "ECHO":
                w.Bulk(raw[1]);
                return (true, true);
            case "HELLO":
                return (true, Hello(args, w));
            case "AUTH":
                return (true, Auth(args[^1], args.Length == 3 ? args[1] : null, w));
            case "CLIENT":
                return (true, Client(args, w));
            case "SELECT":
                if (args[1] == "0") w.SimpleString("OK");
                else w.Error("ERR DB index is out of range (ContextLake has one database, 0)");
                return (true, args[1] == "0");
            case "COMMAND":
                return (true, Command(args, w));
            case "INFO":
                w.Bulk(Info());
                return (true, true);
            case "CONFIG":
                if (args[1].Equals("GET", StringComparison.OrdinalIgnoreCase))
                {
                    w.Map(0);
                    return (true, true);
                }
                w.Error($"ERR CONFIG {Problem.Shorten(args[1]).ToUpperInvariant()} is not supported: ContextLake is configured through its ContextLake:* settings");
                return (true, false);
            case "CLUSTER":
                w.Error("ERR This instance has cluster support disabled");
                return (true, false);
            case "SUBSCRIBE":
            case "PSUBSCRIBE":
                // Accepted so that clients which open a subscription at connect (StackExchange.Redis does) work; nothing is published.
                foreach (var channel in args.Skip(1))
                {
                    _channels.Add(channel);
                    Push(w, command == "SUBSCRIBE" ? "subscribe" : "psubscribe", channel, _channels.Count);
                }
                return (true, true);
            case "UNSUBSCRIBE":
            case "PUNSUBSCRIBE":
                var kind = command == "UNSUBSCRIBE" ? "unsubscribe" : "punsubscribe";
                var names = args.Length > 1 ? args.Skip(1).ToList() : _channels.ToList();
                if (names.Count == 0) Push(w, kind, null, 0);
                foreach (var channel in names)
                {
                    _channels.Remove(channel);
                    Push(w, kind, channel, _channels.Count);
                }
                return (true, true);
            case "QUIT":
                w.SimpleString("OK");
                return (false, true);
            case "RESET":
                Reset();
                w.Protocol = Protocol;
                w.SimpleString("RESET");
                return (true, true);
            case "CONTEXTLAKE.EPOCH":
                if (_lastRead is null) w.Null();
                else w.Bulk(JsonSerializer.Serialize(_lastRead.ToDoc(), EpochJson));
                return (true, true);
            case "CONTEXTLAKE.AFTER":
                return (true, SetAfter(args, w));
            case "CONTEXTLAKE.AT":
                return (true, SetPinned(args[1], w));
            case "CONTEXTLAKE.CONSISTENCY":
                if (args[1] is not ("committed" or "stale-ok"))
                {
                    w.Error($"ERR consistency '{Problem.Shorten(args[1])}' is not one of committed, stale-ok");
                    return (true, false);
                }
                _consistency = args[1];
                w.SimpleString("OK");
                return (true, true);
            case "CONTEXTLAKE.ATTRIBUTES":
                // Opt-in: clients that speak RESP3 do not all read attribute frames (redis-cli 7.0 stops at one).
                if (args[1].ToUpperInvariant() is not ("ON" or "OFF"))
                {
                    w.Error($"ERR CONTEXTLAKE.ATTRIBUTES takes ON or OFF, not '{Problem.Shorten(args[1])}'");
                    return (true, false);
                }
                if (args[1].Equals("ON", StringComparison.OrdinalIgnoreCase) && Protocol < 3)
                {
                    w.Error("ERR attributes are part of RESP3: switch with HELLO 3 first");
                    return (true, false);
                }
                _attributes = args[1].Equals("ON", StringComparison.OrdinalIgnoreCase);
                w.SimpleString("OK");
                return (true, true);
            case "CONTEXTLAKE.DECISION":
                return (true, Arm(args, w));
            case "CONTEXTLAKE.TIMEOUT":
                if (!ReadPoints.TryParseDuration(args[1], out _))
                {
                    w.Error($"ERR timeout '{Problem.Shorten(args[1])}' is not a duration such as 500ms, 5s or 1m");
                    return (true, false);
                }
                _timeout = args[1];
                w.SimpleString("OK");
                return (true, true);
            default:
                w.Error($"ERR unknown command '{command}'");
                return (true, false);
        }
    }

    /// <summary>The reads: every key of the command is read at one epoch, the connection's read point; the read the connection
    /// named a decision is answered once recorded.</summary>
    private async ValueTask<bool> ReadAsync(string command, string[] args, RespWriter w, CancellationToken cancel)
    {
        // One read per arming, whatever it answers.
        var decision = _decision;
        _decision = null;
        var keyCount = command is "MGET" or "EXISTS" ? args.Length - 1 : 1;
        if (keyCount > resp.MaxKeysPerCommand)
        {
            w.Error($"ERR {command} reads at most {resp.MaxKeysPerCommand} keys at once (setting ContextLake:Resp:MaxKeysPerCommand); it named {keyCount}");
            return false;
        }
        var reads = new List<StateRead>(keyCount);
        for (var i = 1; i <= keyCount; i++)
        {
            if (RespKeys.Parse(args[i], $"'{Problem.Shorten(args[i])}'", out var problem) is not { } read)
            {
                w.Error("ERR " + problem);
                return false;
            }
            reads.Add(read);
        }

        var (point, pointProblem) = await ReadPoints.ResolveAsync(new ReadPointRequest(_pinned, _after, _consistency, _timeout, null), clock, options, cancel);
        if (pointProblem is not null)
        {
            w.Error(ErrorOf(pointProblem));
            return false;
        }
        var (results, problems) = await reader.ReadEachAsync(reads, point!, cancel);
        if (System.Array.Find(problems, p => p is not null) is { } failed)
        {
            w.Error(ErrorOf(failed));
            return false;
        }
        if (decision is not null)
        {
            Problem? decisionProblem;
            (results, point, decisionProblem) = await DecideAsync(decision, command, args, keyCount, point!, results, cancel);
            if (decisionProblem is not null)
            {
                w.Error(ErrorOf(decisionProblem));
                return false;
            }
        }
        _lastRead = point;
        if (_attributes && w.Attribute(1))
        {
            w.SimpleString("epoch");
            w.Integer(point!.Epoch.N);
        }

        switch (command)
        {
            case "GET":
                Value(w, results[0]);
                break;
            case "MGET":
                w.Array(results.Length);
                foreach (var result in results) Value(w, result);
                break;
            case "EXISTS":
                w.Integer(results.Count(r => Fields(r) is not null));
                break;
            case "HGETALL":
                var all = Fields(results[0]);
                var present = all?.Where(f => f.Value.ValueKind != JsonValueKind.Null).ToList() ?? [];
                w.Map(present.Count);
                foreach (var (field, value) in present)
                {
                    w.Bulk(field);
                    w.Bulk(Text(value));
                }
                break;
            case "HGET":
                Field(w, Fields(results[0]), args[2]);
                break;
            case "HMGET":
                var fields = Fields(results[0]);
                w.Array(args.Length - 2);
                for (var i = 2; i < args.Length; i++) Field(w, fields, args[i]);
                break;
        }
        return true;
    }

    /// <summary>A key's fields: a view key's columns or an entity's state (or a recorded decision's value of the key); null when
    /// the key holds nothing at the epoch.</summary>
    private static IReadOnlyDictionary<string, JsonElement>? Fields(object? result) => result switch
    {
        ViewKeyDoc { Exists: true } v => v.Values,
        EntityDoc { Exists: true } e => e.State,
        RecordedValue r => r.Fields,
        _ => null,
    };

    /// <summary>GET's value: the key's fields as one JSON object ({"total":5,"n":1}), or nil.</summary>
    private void Value(RespWriter w, object? result)
    {
        var json = ValueJson(result);
        if (json.IsEmpty) w.Null();
        else w.Bulk(json);
    }

    /// <summary>The key's fields as one JSON object (UTF-8), as GET answers them; empty when the key holds nothing at the epoch.
    /// Valid until the next call.</summary>
    private ReadOnlySpan<byte> ValueJson(object? result)
    {
        if (result is ViewKeyDoc { Exists: true, Group: { } group }) return group.Json;
        if (result is RecordedValue recorded) return recorded.Json;
        if (Fields(result) is not { } fields) return default;
        _json.ResetWrittenCount();
        ContextLake.Platform.Serialization.JsonObjects.Write(_json, fields);
        return _json.WrittenSpan;
    }

    private static void Field(RespWriter w, IReadOnlyDictionary<string, JsonElement>? fields, string field)
    {
        if (fields is not null && fields.TryGetValue(field, out var value) && value.ValueKind != JsonValueKind.Null) w.Bulk(Text(value));
        else w.Null();
    }

    /// <summary>A field as Redis holds values, a string: numbers as written, strings unquoted, objects and arrays as JSON.</summary>
    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    /// <summary>A problem of the HTTP API as a RESP error: TRYAGAIN when waiting could help (503, 504), CONFLICT for a decision id
    /// recorded with another request (409), ERR otherwise.</summary>
    private static string ErrorOf(Problem problem) => problem.Status switch
    {
        StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout => "TRYAGAIN ",
        StatusCodes.Status409Conflict => "CONFLICT ",
        _ => "ERR ",
    } + problem.Detail;

    private bool Hello(string[] args, RespWriter w)
    {
        var protocol = Protocol;
        if (args.Length > 1)
        {
            if (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out protocol) || protocol is not (2 or 3))
            {
                w.Error("NOPROTO unsupported protocol version (ContextLake speaks RESP2 and RESP3)");
                return false;
            }
        }
        for (var i = 2; i < args.Length; i++)
        {
            if (args[i].Equals("AUTH", StringComparison.OrdinalIgnoreCase) && i + 2 < args.Length)
            {
                if (!Auth(args[i + 2], args[i + 1], null))
                {
                    w.Error("WRONGPASS invalid username-password pair or user is disabled.");
                    return false;
                }
                i += 2;
            }
            else if (args[i].Equals("SETNAME", StringComparison.OrdinalIgnoreCase) && i + 1 < args.Length) _name = args[++i];
            else
            {
                w.Error($"ERR Syntax error in HELLO option '{Problem.Shorten(args[i])}'");
                return false;
            }
        }
        if (!_authenticated)
        {
            w.Error("NOAUTH HELLO must be called with the client's AUTH username and password (the node's admin token)");
            return false;
        }
        Protocol = w.Protocol = protocol;
        if (protocol < 3) _attributes = false;
        w.Map(7);
        w.Bulk("server");
        w.Bulk("contextlake");
        w.Bulk("version");
        w.Bulk(CompatibleRedisVersion);
        w.Bulk("proto");
        w.Integer(protocol);
        w.Bulk("id");
        w.Integer(id);
        w.Bulk("mode");
        w.Bulk("standalone");
        w.Bulk("role");
        w.Bulk("master");
        w.Bulk("modules");
        w.Array(0);
        return true;
    }

    /// <summary>AUTH [username] password: the password is the admin token (ContextLake:Admin:Token); any username.</summary>
    private bool Auth(string password, string? username, RespWriter? w)
    {
        _ = username;
        if (string.IsNullOrEmpty(admin.Token))
        {
            w?.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return w is null;
        }
        var ok = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(password)), SHA256.HashData(Encoding.UTF8.GetBytes(admin.Token)));
        if (ok) _authenticated = true;
        if (w is not null)
        {
            if (ok) w.SimpleString("OK");
            else w.Error("WRONGPASS invalid username-password pair or user is disabled.");
        }
        return ok;
    }

    private bool Client(string[] args, RespWriter w)
    {
        switch (args[1].ToUpperInvariant())
        {
            case "SETNAME" when args.Length == 3:
                _name = args[2];
                w.SimpleString("OK");
                return true;
            case "GETNAME":
                if (_name is null) w.Null();
                else w.Bulk(_name);
                return true;
            case "ID":
                w.Integer(id);
                return true;
            case "INFO":
                w.Bulk($"id={id} name={_name} db=0 resp={Protocol}\n");
                return true;
            case "SETINFO":
            case "NO-EVICT":
            case "NO-TOUCH":
            case "REPLY" when args.Length == 3 && args[2].Equals("ON", StringComparison.OrdinalIgnoreCase):
                w.SimpleString("OK");
                return true;
            default:
                w.Error($"ERR unknown subcommand or wrong number of arguments for 'CLIENT {Problem.Shorten(args[1])}'");
                return false;
        }
    }

    /// <summary>COMMAND, COMMAND COUNT, COMMAND INFO name…, COMMAND DOCS (empty) and COMMAND LIST: what this node answers.</summary>
    private static bool Command(string[] args, RespWriter w)
    {
        var sub = args.Length > 1 ? args[1].ToUpperInvariant() : "";
        switch (sub)
        {
            case "":
                w.Array(Arity.Count);
                foreach (var name in Arity.Keys) CommandInfo(w, name);
                return true;
            case "COUNT":
                w.Integer(Arity.Count);
                return true;
            case "LIST":
                w.Array(Arity.Count);
                foreach (var name in Arity.Keys) w.Bulk(name.ToLowerInvariant());
                return true;
            case "INFO":
                w.Array(args.Length - 2);
                foreach (var name in args.Skip(2))
                {
                    if (Arity.ContainsKey(name)) CommandInfo(w, name);
                    else w.Null();
                }
                return true;
            case "DOCS":
                w.Map(0);
                return true;
            default:
                w.Error($"ERR unknown subcommand '{Problem.Shorten(args[1])}'. Try COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND LIST or COMMAND DOCS.");
                return false;
        }
    }

    /// <summary>One command as COMMAND describes it: name, arity (negative: at least), flags, first key, last key, step.</summary>
    private static void CommandInfo(RespWriter w, string name)
    {
        var (min, max, flags) = Arity[name];
        var keys = name.ToUpperInvariant() switch
        {
            "GET" or "HGET" or "HMGET" or "HGETALL" => (1, 1, 1),
            "MGET" or "EXISTS" => (1, -1, 1),
            _ => (0, 0, 0),
        };
        w.Array(6);
        w.Bulk(name.ToLowerInvariant());
        w.Integer(max == min ? min : -min);
        var flagList = flags.Split(' ');
        w.Array(flagList.Length);
        foreach (var f in flagList) w.SimpleString(f);
        w.Integer(keys.Item1);
        w.Integer(keys.Item2);
        w.Integer(keys.Item3);
    }

    private string Info()
    {
        var latest = clock.Latest;
        return string.Join("\r\n",
            "# Server",
            $"redis_version:{CompatibleRedisVersion}",
            "redis_mode:standalone",
            "server_name:contextlake",
            $"contextlake_epoch:{latest.N}",
            $"contextlake_epoch_committed_at:{latest.CommittedAt:O}",
            "",
            "# Clients",
            $"connected_clients:{RespMetrics.Connections.Value:0}",
            "",
            "# Replication",
            "role:master",
            "connected_slaves:0",
            "",
            "# Keyspace",
            "") + "\r\n";
    }

    private bool SetAfter(string[] args, RespWriter w)
    {
        if (args.Length == 2 && args[1].Equals("NONE", StringComparison.OrdinalIgnoreCase))
        {
            _after = [];
            w.SimpleString("OK");
            return true;
        }
        var after = new List<string>(args.Length - 1);
        foreach (var a in args.Skip(1))
        {
            if (!StreamPosition.TryParse(a, out _))
            {
                w.Error($"ERR after '{Problem.Shorten(a)}' is not a position of the form STREAM@OFFSET, e.g. http:writes@97 (or NONE)");
                return false;
            }
            after.Add(a);
        }
        _after = after;
        w.SimpleString("OK");
        return true;
    }

    private bool SetPinned(string value, RespWriter w)
    {
        if (value.Equals("LATEST", StringComparison.OrdinalIgnoreCase)) _pinned = null;
        else if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) _pinned = n;
        else
        {
            w.Error($"ERR epoch '{Problem.Shorten(value)}' is not a non-negative integer (or LATEST)");
            return false;
        }
        w.SimpleString("OK");
        return true;
    }

    private void Reset()
    {
        Protocol = 2;
        _authenticated = string.IsNullOrEmpty(admin.Token);
        _name = null;
        _after = [];
        _pinned = null;
        _consistency = null;
        _timeout = null;
        _lastRead = null;
        _attributes = false;
        _decision = null;
        _channels.Clear();
    }

    private static void Push(RespWriter w, string kind, string? channel, int count)
    {
        w.Push(3);
        w.Bulk(kind);
        if (channel is null) w.Null();
        else w.Bulk(channel);
        w.Integer(count);
    }
}
