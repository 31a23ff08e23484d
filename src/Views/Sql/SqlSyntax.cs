// What the grammar hands to the semantic checks: the statement's pieces, each with the place it was written.
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Sql;

internal readonly record struct SourcePos(int Line, int Column)
{
    public static SourcePos Unknown { get; } = new(1, 1);
}

internal sealed record Name(string Text, SourcePos At);

internal abstract record SelectItem(SourcePos At, Name? Alias);

internal sealed record PlainColumnItem(Name Column, Name? Alias) : SelectItem(Column.At, Alias);

internal sealed record AggregateItem(AggregateFunction Function, SourcePos At, Name? Argument, Name? Alias) : SelectItem(At, Alias);

internal sealed record DurationLit(TimeSpan Value, string Text, SourcePos At);

internal sealed record WindowSyntax(string Kind, SourcePos At, IReadOnlyList<DurationLit> Durations);

internal sealed record LatenessSyntax(SourcePos At, DurationLit Duration);

internal sealed record StatementSyntax(
    Name View,
    SourcePos SelectAt,
    IReadOnlyList<SelectItem> Items,
    Name Source,
    Expr? Where,
    Name GroupBy,
    WindowSyntax? Window,
    LatenessSyntax? Lateness);

/// <summary>One option of a vector view's WITH (...): a name and a number or a word.</summary>
internal sealed record OptionSyntax(Name Name, string Value, bool IsNumber, SourcePos ValueAt);

internal sealed record VectorStatementSyntax(Name View, Name Column, Name Source, Expr? Where, SourcePos WithAt, IReadOnlyList<OptionSyntax> Options);

/// <summary>Where Parse found the names that Validate checks against a schema, so its errors can point at them.</summary>
internal sealed record SourceMap(SourcePos Source, SourcePos Key, IReadOnlyList<SourcePos> AggregateArguments);
