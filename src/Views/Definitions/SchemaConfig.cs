// Entity schemas as view definitions are checked against (EntitySchemas): from configuration (ContextLake:Schemas), for
// the startup check of the configured views, and from the view catalog's schemas, which start as the configured ones and
// change at run time (PUT /v1/schemas/{type}).
using ContextLake.Views.Catalog;

namespace ContextLake.Views.Definitions;

public static class SchemaConfig
{
    public static EntitySchemas From(IReadOnlyDictionary<string, Dictionary<string, string>> configured) =>
        new(configured.ToDictionary(
            t => t.Key,
            t => (IReadOnlyDictionary<string, ColumnType>)t.Value.ToDictionary(f => f.Key, f => TypeOf(f.Value)
                ?? throw new ArgumentException($"ContextLake:Schemas:{t.Key}:{f.Key}: '{f.Value}' is not one of number, string, boolean, time, vector"),
                StringComparer.Ordinal),
            StringComparer.Ordinal));

    public static EntitySchemas From(IEnumerable<SchemaEntry> schemas) =>
        new(schemas.ToDictionary(
            s => s.Type,
            s => (IReadOnlyDictionary<string, ColumnType>)s.Fields.ToDictionary(f => f.Key, f => TypeOf(f.Value)
                ?? throw new ArgumentException($"schema {s.Type}: field {f.Key}: '{f.Value}' is not one of number, string, boolean, time, vector"),
                StringComparer.Ordinal),
            StringComparer.Ordinal));

    /// <summary>The column type of a declared kind (number, string, boolean, time, vector), or null for another word.</summary>
    public static ColumnType? TypeOf(string kind) => kind switch
    {
        "number" => ColumnType.Number,
        "string" => ColumnType.String,
        "boolean" => ColumnType.Boolean,
        "time" => ColumnType.Time,
        "vector" => ColumnType.Vector,
        _ => null,
    };
}
