// Entity schemas from configuration (ContextLake:Schemas): the column types view definitions are checked against.
namespace ContextLake.Views.Definitions;

public static class SchemaConfig
{
    public static EntitySchemas From(IReadOnlyDictionary<string, Dictionary<string, string>> configured) =>
        new(configured.ToDictionary(
            t => t.Key,
            t => (IReadOnlyDictionary<string, ColumnType>)t.Value.ToDictionary(f => f.Key, f => f.Value switch
            {
                "number" => ColumnType.Number,
                "string" => ColumnType.String,
                "boolean" => ColumnType.Boolean,
                "time" => ColumnType.Time,
                "vector" => ColumnType.Vector,
                _ => throw new ArgumentException($"ContextLake:Schemas:{t.Key}:{f.Key}: '{f.Value}' is not one of number, string, boolean, time, vector"),
            }, StringComparer.Ordinal),
            StringComparer.Ordinal));
}
