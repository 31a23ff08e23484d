// What a schema change may not do: take away, or give another kind to, a column a view reads (its group key, an
// aggregate's argument, a column of its WHERE, a vector view's indexed field), nor delete the schema of a type a view
// reads. Adding fields, or changing ones no view reads, is always allowed. The view catalog applies this where changes
// are ordered, so a view create and a schema change that race cannot both get in.
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Catalog;

public static class SchemaChanges
{
    /// <summary>
    /// Why <paramref name="next"/> cannot replace <paramref name="current"/> (null: the type had no schema, so no view can
    /// have been checked against one), or, with <paramref name="next"/> null, why the schema cannot be deleted; null when it
    /// can. Each view in the way is named with the columns it reads.
    /// </summary>
    public static string? Conflict(string type, SchemaEntry? current, SchemaEntry? next, IEnumerable<(string Name, ViewDefinition Definition)> views)
    {
        if (current is null) return null;
        var conflicts = new List<string>();
        foreach (var (name, definition) in views.Where(v => v.Definition.Source == type).OrderBy(v => v.Name, StringComparer.Ordinal))
        {
            var read = ColumnsRead(definition).Where(c => current.Fields.ContainsKey(c)).ToList();
            if (next is null)
            {
                conflicts.Add(read.Count == 0
                    ? $"view '{name}' reads {type}"
                    : $"view '{name}' reads {string.Join(", ", read.Select(c => Describe(type, c, current.Fields[c], definition)))}");
                continue;
            }
            var changed = new List<string>();
            foreach (var column in read)
            {
                var was = current.Fields[column];
                if (!next.Fields.TryGetValue(column, out var kind))
                    changed.Add($"{Describe(type, column, was, definition)} (the change removes it)");
                else if (kind != was)
                    changed.Add($"{Describe(type, column, was, definition)} (the change makes it {kind})");
            }
            if (changed.Count > 0) conflicts.Add($"view '{name}' reads {string.Join(", ", changed)}");
        }
        if (conflicts.Count == 0) return null;
        return next is null
            ? $"the schema of {type} cannot be deleted: {string.Join("; ", conflicts)}; drop the view first"
            : $"the schema of {type} cannot change so: {string.Join("; ", conflicts)}; drop the view first, or keep the column as it is";
    }

    /// <summary>The data columns a view reads (built-in columns such as event_time are not a schema's to change).</summary>
    public static IReadOnlyList<string> ColumnsRead(ViewDefinition view)
    {
        var columns = new List<string> { view.KeyColumn };
        columns.AddRange(view.Aggregates.Select(a => a.Argument).OfType<string>());
        if (view.Where is { } where) Collect(where, columns);
        return columns.Where(c => !EventColumns.BuiltIn.Contains(c)).Distinct(StringComparer.Ordinal).ToList();
    }

    private static void Collect(Expr expr, List<string> columns)
    {
        switch (expr)
        {
            case ColumnRef c:
                columns.Add(c.Name);
                break;
            case Binary b:
                Collect(b.Left, columns);
                Collect(b.Right, columns);
                break;
            case Not n:
                Collect(n.Operand, columns);
                break;
            case IsNull i:
                Collect(i.Operand, columns);
                break;
            case InList l:
                Collect(l.Operand, columns);
                foreach (var item in l.Items) Collect(item, columns);
                break;
        }
    }

    // A vector view's indexed field is named with the dimensions the view expects of it.
    private static string Describe(string type, string column, string kind, ViewDefinition view) =>
        view.Vector is { } spec && column == view.KeyColumn
            ? $"{type}.{column} as vector of {spec.Dimensions} dimensions (the field it indexes)"
            : $"{type}.{column} as {kind}";
}
