// The Redis key syntax of ContextLake's state: view:<view>:<key> is a key of a view (credits of account a1 is
// view:credits:a1) and entity:<type>:<id> an entity (entity:account:a1). View and type names have no ':', so
// everything after the second ':' is the key or id, colons included.
using ContextLake.Gateway.Problems;
using ContextLake.Gateway.Reads;

namespace ContextLake.Gateway.Resp;

public static class RespKeys
{
    public const string Syntax = "view:<view>:<key> or entity:<type>:<id>";

    /// <summary>The read a Redis key names (<paramref name="where"/> prefixes the problems of the read itself), or null with
    /// <paramref name="problem"/> saying why it names none.</summary>
    public static StateRead? Parse(string key, string where, out string? problem)
    {
        problem = null;
        var (kind, rest) = key.StartsWith("view:", StringComparison.Ordinal) ? ("view", key[5..])
            : key.StartsWith("entity:", StringComparison.Ordinal) ? ("entity", key[7..])
            : (null, key);
        var colon = rest.IndexOf(':');
        if (kind is null || colon <= 0 || colon == rest.Length - 1)
        {
            problem = $"'{Problem.Shorten(key)}' is not a ContextLake key ({Syntax})";
            return null;
        }
        var (name, id) = (rest[..colon], rest[(colon + 1)..]);
        return kind == "view" ? new ViewStateRead(name, id, null, where) : new EntityStateRead(name, id, where);
    }
}
