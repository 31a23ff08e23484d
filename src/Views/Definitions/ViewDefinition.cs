// The parsed form of CREATE VIEW: what a view groups by, what it aggregates, which rows it keeps,
// and over which event-time window; or, for a vector view, which numeric-array field it indexes for
// nearest-neighbour search. Produced by ViewSql.Parse, checked by ViewSql.Validate.
using ContextLake.Views.Vectors;

namespace ContextLake.Views.Definitions;

public sealed record ViewDefinition(
    string Name,
    string Source,
    string KeyColumn,
    string KeyAlias,
    IReadOnlyList<AggregateColumn> Aggregates,
    Expr? Where,
    WindowSpec? Window,
    string Sql,
    VectorSpec? Vector = null)
{
    /// <summary>A vector view (CREATE VECTOR VIEW): KeyColumn is the indexed field, there are no aggregates.</summary>
    public bool IsVector => Vector is not null;
}

/// <summary>
/// What a vector view indexes: vectors of <see cref="Dimensions"/> numbers compared by <see cref="Metric"/>,
/// spread over <see cref="Partitions"/> sharded partitions by entity id; an approximate search scans the
/// <see cref="Probes"/> inverted lists nearest to the query in each partition.
/// </summary>
public sealed record VectorSpec(int Dimensions, VectorMetric Metric, int Partitions, int Probes = Vectors.IvfOptions.DefaultProbes)
{
    public const int MaxDimensions = 4096;
    public const int MaxPartitions = 256;
    public const int DefaultPartitions = 4;
    public const int MaxProbes = 100_000;
}

public enum AggregateFunction
{
    Count,
    CountDistinct,
    Sum,
    Min,
    Max,
    Avg,
    Last,
}

/// <summary>One aggregate of the SELECT list. <see cref="Argument"/> is null only for COUNT(*).</summary>
public sealed record AggregateColumn(AggregateFunction Function, string? Argument, string Alias);

/// <summary>An event-time window; events later than <see cref="AllowedLateness"/> are counted as late, not aggregated.</summary>
public abstract record WindowSpec
{
    public TimeSpan AllowedLateness { get; init; }
}

public sealed record TumblingWindow(TimeSpan Size) : WindowSpec;

public sealed record HoppingWindow(TimeSpan Size, TimeSpan Slide) : WindowSpec;

public sealed record SessionWindow(TimeSpan Gap) : WindowSpec;

/// <summary>WHERE expressions; Line and Column (1-based) locate the node in the SQL text for error messages.</summary>
public abstract record Expr(int Line, int Column);

public sealed record ColumnRef(string Name, int Line, int Column) : Expr(Line, Column);

/// <summary>A literal: decimal, string, bool, or null.</summary>
public sealed record Literal(object? Value, int Line, int Column) : Expr(Line, Column);

/// <summary>Op is one of =, &lt;&gt;, &lt;, &lt;=, &gt;, &gt;=, AND, OR (!= is parsed as &lt;&gt;).</summary>
public sealed record Binary(string Op, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

public sealed record Not(Expr Operand, int Line, int Column) : Expr(Line, Column);

public sealed record IsNull(Expr Operand, bool Negated, int Line, int Column) : Expr(Line, Column);

public sealed record InList(Expr Operand, IReadOnlyList<Expr> Items, bool Negated, int Line, int Column) : Expr(Line, Column);

/// <summary>The declared type of an entity type's data field (the configuration's Schemas section).</summary>
public enum ColumnType
{
    Number,
    String,
    Boolean,
    Time,

    /// <summary>An array of numbers (an embedding): only a vector view can use it.</summary>
    Vector,
}

/// <summary>Entity type → field → type. The built-in columns event_time, entity_id and kind exist on every type.</summary>
public sealed class EntitySchemas(IReadOnlyDictionary<string, IReadOnlyDictionary<string, ColumnType>> types)
{
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, ColumnType>> Types { get; } = types;
}

/// <summary>A view definition that cannot be accepted; Message starts with "line L, column C: ".</summary>
public sealed class ViewDefinitionException(string reason, int line, int column)
    : Exception($"line {line}, column {column}: {reason}")
{
    public string Reason { get; } = reason;
    public int Line { get; } = line;
    public int Column { get; } = column;
}
