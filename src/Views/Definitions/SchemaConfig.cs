// Entity schemas as view definitions are checked against (EntitySchemas): from configuration (ContextLake:Schemas), for
// the startup check of the configured views, and from the view catalog's schemas, which start as the configured ones and
// change at run time (PUT /v1/schemas/{type}).
using ContextLake.Platform.Events;
using ContextLake.Views.Catalog;

namespace ContextLake.Views.Definitions;

public static class SchemaConfig
{
    public static EntitySchemas From(IReadOnlyDictionary<string, Dictionary<string, string>> configured) =>
        Build(configured.Select(t => (t.Key, (IEnumerable<KeyValuePair<string, string>>)t.Value)), (type, field) => $"ContextLake:Schemas:{type}:{field}");

    public static EntitySchemas From(IEnumerable<SchemaEntry> schemas) =>
        Build(schemas.Select(s => (s.Type, (IEnumerable<KeyValuePair<string, string>>)s.Fields)), (type, field) => $"schema {type}: field {field}");

    /// <summary>The column types of each type's declared kinds; <paramref name="where"/> names a field whose kind is not one.</summary>
    private static EntitySchemas Build(IEnumerable<(string Type, IEnumerable<KeyValuePair<string, string>> Fields)> types, Func<string, string, string> where) =>
        new(types.ToDictionary(
            t => t.Type,
            t => (IReadOnlyDictionary<string, ColumnType>)t.Fields.ToDictionary(f => f.Key, f => TypeOf(f.Value)
                ?? throw new ArgumentException($"{where(t.Type, f.Key)}: '{f.Value}' is not one of {string.Join(", ", EventAdmission.Kinds)}"),
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
