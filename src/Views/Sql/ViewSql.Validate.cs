// Checking a parsed view against the declared schemas: the names must exist and the types must fit their use.
using System.Globalization;
using ContextLake.Views.Columns;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Sql;

public static partial class ViewSql
{
    private static readonly IReadOnlyDictionary<string, ColumnType> BuiltInColumns = new Dictionary<string, ColumnType>
    {
        [EventColumns.EventTime] = ColumnType.Time,
        [EventColumns.EntityId] = ColumnType.String,
        [EventColumns.Kind] = ColumnType.String,
    };

    /// <summary>Checks <paramref name="view"/> against <paramref name="schemas"/>; throws <see cref="ViewDefinitionException"/> at the first misfit.</summary>
    public static void Validate(ViewDefinition view, EntitySchemas schemas)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(schemas);
        var map = MapOf(view);

        if (!schemas.Types.TryGetValue(view.Source, out var fields))
        {
            var known = schemas.Types.Count == 0 ? "none are declared" : string.Join(", ", schemas.Types.Keys.Order(StringComparer.Ordinal));
            throw Error(map.Source, $"unknown entity type '{view.Source}' after FROM; known types: {known}");
        }

        var table = new Table(view.Source, fields);
        if (view.Vector is not null)
        {
            var type = table.TypeOf(view.KeyColumn, map.Key);
            if (type != ColumnType.Vector)
                throw Error(map.Key, $"a vector view indexes a vector column, but {view.Source}.{view.KeyColumn} is {TypeName(type)} (declare it as \"vector\" in ContextLake:Schemas)");
            if (view.Where is { } filter)
                CheckCondition(table, filter);
            return;
        }
        if (table.TypeOf(view.KeyColumn, map.Key) == ColumnType.Vector)
            throw Error(map.Key, $"GROUP BY cannot use vector column {view.Source}.{view.KeyColumn}; index it with CREATE VECTOR VIEW");
        for (var i = 0; i < view.Aggregates.Count; i++)
            CheckAggregate(table, view.Aggregates[i], i < map.AggregateArguments.Count ? map.AggregateArguments[i] : SourcePos.Unknown);
        if (view.Where is { } where)
            CheckCondition(table, where);
    }

    // A ViewDefinition built by hand or copied with `with` has no recorded positions; reparsing its text recovers them.
    private static SourceMap MapOf(ViewDefinition view)
    {
        if (Maps.TryGetValue(view, out var map))
            return map;
        try
        {
            var reparsed = Parse(view.Sql);
            if (reparsed.Source == view.Source && reparsed.KeyColumn == view.KeyColumn && reparsed.Aggregates.SequenceEqual(view.Aggregates)
                && Maps.TryGetValue(reparsed, out var recovered))
                return recovered;
        }
        catch (ViewDefinitionException)
        {
            // The text no longer matches the record; errors fall back to the start of the text.
        }
        return new SourceMap(SourcePos.Unknown, SourcePos.Unknown, []);
    }

    /// <summary>Checks a condition parsed by <see cref="ParseCondition"/> against the columns of <paramref name="source"/>.</summary>
    public static void ValidateCondition(Expr condition, string source, EntitySchemas schemas)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(schemas);
        if (!schemas.Types.TryGetValue(source, out var fields))
            throw Error(SourcePos.Unknown, $"unknown entity type '{source}'");
        CheckCondition(new Table(source, fields), condition);
    }

    private static void CheckAggregate(Table table, AggregateColumn aggregate, SourcePos at)
    {
        if (aggregate.Argument is not { } argument)
            return;
        var type = table.TypeOf(argument, at);
        var name = aggregate.Function.ToString().ToUpperInvariant();
        switch (aggregate.Function)
        {
            case var _ when type == ColumnType.Vector:
                throw Error(at, $"aggregate {name} cannot take vector column {table.Name}.{argument}; index it with CREATE VECTOR VIEW");
            case AggregateFunction.Sum or AggregateFunction.Avg when type != ColumnType.Number:
                throw Error(at, $"aggregate {name} needs a number column, but {table.Name}.{argument} is {TypeName(type)}");
            case AggregateFunction.Min or AggregateFunction.Max when type == ColumnType.Boolean:
                throw Error(at, $"aggregate {name} needs a number, string or time column, but {table.Name}.{argument} is {TypeName(type)}");
        }
    }

    private static void CheckCondition(Table table, Expr expr)
    {
        var type = TypeOf(table, expr);
        if (type is not (null or ColumnType.Boolean))
            throw Error(At(expr), $"WHERE needs a true/false condition, but {Describe(table, expr)} is {TypeName(type.Value)}");
    }

    // The type an expression yields; null for the NULL literal, which fits anywhere.
    private static ColumnType? TypeOf(Table table, Expr expr)
    {
        switch (expr)
        {
            case ColumnRef column:
                return table.TypeOf(column.Name, At(column));
            case Literal literal:
                return LiteralType(literal);
            case Not not:
                CheckCondition(table, not.Operand);
                return ColumnType.Boolean;
            case IsNull isNull:
                TypeOf(table, isNull.Operand);
                return ColumnType.Boolean;
            case Binary { Op: "AND" or "OR" } logical:
                CheckCondition(table, logical.Left);
                CheckCondition(table, logical.Right);
                return ColumnType.Boolean;
            case Binary comparison:
                CheckComparable(table, comparison.Left, TypeOf(table, comparison.Left), comparison.Right, TypeOf(table, comparison.Right));
                return ColumnType.Boolean;
            case InList inList:
                var operandType = TypeOf(table, inList.Operand);
                foreach (var item in inList.Items)
                    CheckComparable(table, inList.Operand, operandType, item, TypeOf(table, item));
                return ColumnType.Boolean;
            default:
                throw new InvalidOperationException($"unknown expression {expr.GetType().Name}");
        }
    }

    private static void CheckComparable(Table table, Expr left, ColumnType? leftType, Expr right, ColumnType? rightType)
    {
        if (leftType is not { } l || rightType is not { } r || l == r)
            return;
        // A time column is stored as an ISO-8601 string, so a timestamp literal is the way to compare against it.
        if (l == ColumnType.Time && r == ColumnType.String && right is Literal { Value: string rs })
        {
            if (RowPredicate.IsTimestamp(rs))
                return;
            throw Error(At(right), $"{Describe(table, left)} is time, but {Describe(table, right)} is not a timestamp");
        }
        if (r == ColumnType.Time && l == ColumnType.String && left is Literal { Value: string ls })
        {
            if (RowPredicate.IsTimestamp(ls))
                return;
            throw Error(At(left), $"{Describe(table, right)} is time, but {Describe(table, left)} is not a timestamp");
        }
        var offending = right is Literal || left is not Literal ? right : left;
        throw Error(At(offending), $"cannot compare {Describe(table, left)} ({TypeName(l)}) with {Describe(table, right)} ({TypeName(r)})");
    }

    private static ColumnType? LiteralType(Literal literal) => literal.Value switch
    {
        null => null,
        decimal => ColumnType.Number,
        string => ColumnType.String,
        bool => ColumnType.Boolean,
        var other => throw new InvalidOperationException($"unsupported literal {other.GetType().Name}"),
    };

    private static string Describe(Table table, Expr expr) => expr switch
    {
        ColumnRef c => $"{table.Name}.{c.Name}",
        Literal { Value: null } => "NULL",
        Literal { Value: string s } => $"'{s.Replace("'", "''", StringComparison.Ordinal)}'",
        Literal { Value: bool b } => b ? "TRUE" : "FALSE",
        Literal { Value: decimal d } => d.ToString(CultureInfo.InvariantCulture),
        _ => "the condition",
    };

    private static string TypeName(ColumnType type) => type.ToString().ToLowerInvariant();

    private static SourcePos At(Expr expr) => new(expr.Line, expr.Column);

    private sealed class Table(string name, IReadOnlyDictionary<string, ColumnType> fields)
    {
        public string Name { get; } = name;

        // Built-in columns win over same-named data fields, as they do when rows are read.
        public ColumnType TypeOf(string column, SourcePos at)
        {
            if (BuiltInColumns.TryGetValue(column, out var builtIn))
                return builtIn;
            if (fields.TryGetValue(column, out var declared))
                return declared;
            var columns = fields.Keys.Where(k => !BuiltInColumns.ContainsKey(k)).Order(StringComparer.Ordinal).Concat(BuiltInColumns.Keys);
            throw Error(at, $"unknown column '{column}' on {Name}; its columns are: {string.Join(", ", columns)}");
        }
    }
}
