// The view dialect's grammar as Superpower token-list parsers; it knows shape only, the meaning checks live in ViewSql.
using System.Globalization;
using System.Text.RegularExpressions;
using ContextLake.Views.Definitions;
using Superpower;
using Superpower.Model;
using Superpower.Parsers;

namespace ContextLake.Views.Sql;

internal static partial class SqlGrammar
{
    // Reserved words cannot be unquoted names; function and window names stay usable as column names.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "CREATE", "VIEW", "AS", "SELECT", "FROM", "WHERE", "GROUP", "BY", "WINDOW", "ALLOWED", "LATENESS",
        "AND", "OR", "NOT", "IS", "NULL", "IN", "TRUE", "FALSE", "DISTINCT",
    };

    public static SourcePos At(Token<SqlToken> token) => new(token.Position.Line, token.Position.Column);

    private static TokenListParser<SqlToken, SourcePos> Keyword(string keyword) =>
        Token.EqualToValueIgnoreCase(SqlToken.Identifier, keyword).Select(At).Named(keyword);

    private static TokenListParser<SqlToken, SourcePos> Punct(SqlToken kind, string text) =>
        Token.EqualTo(kind).Select(At).Named($"'{text}'");

    private static TokenListParser<SqlToken, Name> NameOf(string what) => input =>
    {
        var next = input.ConsumeToken();
        if (next.HasValue)
        {
            var token = next.Value;
            if (token.Kind == SqlToken.QuotedIdentifier)
                return TokenListParserResult.Value(new Name(SqlTokens.Unquote(token), At(token)), input, next.Remainder);
            if (token.Kind == SqlToken.Identifier && !Reserved.Contains(token.ToStringValue()))
                return TokenListParserResult.Value(new Name(token.ToStringValue(), At(token)), input, next.Remainder);
        }
        return TokenListParserResult.Empty<SqlToken, Name>(input, [what]);
    };

    private static readonly TokenListParser<SqlToken, SourcePos> LParen = Punct(SqlToken.LParen, "(");
    private static readonly TokenListParser<SqlToken, SourcePos> RParen = Punct(SqlToken.RParen, ")");
    private static readonly TokenListParser<SqlToken, SourcePos> Comma = Punct(SqlToken.Comma, ",");

    private static readonly TokenListParser<SqlToken, Name> Column = NameOf("column");

    private static readonly TokenListParser<SqlToken, Name?> Alias =
        (from asKeyword in Keyword("AS")
         from alias in NameOf("alias")
         select (Name?)alias).OptionalOrDefault();


    private static readonly Dictionary<string, TimeSpan> Units = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ms"] = TimeSpan.FromMilliseconds(1), ["millisecond"] = TimeSpan.FromMilliseconds(1), ["milliseconds"] = TimeSpan.FromMilliseconds(1),
        ["s"] = TimeSpan.FromSeconds(1), ["sec"] = TimeSpan.FromSeconds(1), ["second"] = TimeSpan.FromSeconds(1), ["seconds"] = TimeSpan.FromSeconds(1),
        ["m"] = TimeSpan.FromMinutes(1), ["min"] = TimeSpan.FromMinutes(1), ["minute"] = TimeSpan.FromMinutes(1), ["minutes"] = TimeSpan.FromMinutes(1),
        ["h"] = TimeSpan.FromHours(1), ["hour"] = TimeSpan.FromHours(1), ["hours"] = TimeSpan.FromHours(1),
        ["d"] = TimeSpan.FromDays(1), ["day"] = TimeSpan.FromDays(1), ["days"] = TimeSpan.FromDays(1),
    };

    [GeneratedRegex(@"^\s*(\d+)\s*([A-Za-z]+)\s*$")]
    private static partial Regex DurationPattern();

    private static bool TryDuration(string text, out TimeSpan value)
    {
        value = default;
        var match = DurationPattern().Match(text);
        if (!match.Success || !Units.TryGetValue(match.Groups[2].Value, out var unit)
            || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return false;
        try
        {
            value = TimeSpan.FromTicks(checked(count * unit.Ticks));
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    // Both 10m and '10 minutes' are accepted; a quoted string that is not a duration fails here, at its own token.
    private static readonly TokenListParser<SqlToken, DurationLit> Duration = input =>
    {
        var next = input.ConsumeToken();
        if (next.HasValue && next.Value.Kind is SqlToken.Duration or SqlToken.String)
        {
            var token = next.Value;
            var text = token.Kind == SqlToken.String ? SqlTokens.Unquote(token) : token.ToStringValue();
            if (TryDuration(text, out var value))
                return TokenListParserResult.Value(new DurationLit(value, token.ToStringValue(), At(token)), input, next.Remainder);
        }
        return TokenListParserResult.Empty<SqlToken, DurationLit>(input, ["a duration such as 10m or '10 minutes'"]);
    };


    private static readonly TokenListParser<SqlToken, Expr> LiteralValue =
        Token.EqualTo(SqlToken.Number)
            .Select(t => (Expr)new Literal(decimal.Parse(t.ToStringValue(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture), t.Position.Line, t.Position.Column))
        .Or(Token.EqualTo(SqlToken.String)
            .Select(t => (Expr)new Literal(SqlTokens.Unquote(t), t.Position.Line, t.Position.Column)))
        .Or(Token.EqualToValueIgnoreCase(SqlToken.Identifier, "TRUE")
            .Select(t => (Expr)new Literal(true, t.Position.Line, t.Position.Column)))
        .Or(Token.EqualToValueIgnoreCase(SqlToken.Identifier, "FALSE")
            .Select(t => (Expr)new Literal(false, t.Position.Line, t.Position.Column)))
        .Or(Token.EqualToValueIgnoreCase(SqlToken.Identifier, "NULL")
            .Select(t => (Expr)new Literal(null, t.Position.Line, t.Position.Column)))
        .Named("literal");

    private static readonly TokenListParser<SqlToken, Expr> ColumnExpr =
        Column.Select(n => (Expr)new ColumnRef(n.Text, n.At.Line, n.At.Column));

    private static readonly TokenListParser<SqlToken, Expr> Parenthesized =
        from open in LParen
        from inner in Parse.Ref(() => Condition!)
        from close in RParen
        select inner;

    private static readonly TokenListParser<SqlToken, Expr> Primary =
        Parenthesized.Or(LiteralValue).Or(ColumnExpr).Named("column, literal or '('");

    private static readonly TokenListParser<SqlToken, string> ComparisonOp =
        Token.EqualTo(SqlToken.Comparison).Select(t => t.ToStringValue() == "!=" ? "<>" : t.ToStringValue()).Named("comparison");

    private static TokenListParser<SqlToken, Expr> Comparison(Expr left) =>
        from op in ComparisonOp
        from right in Primary
        select (Expr)new Binary(op, left, right, left.Line, left.Column);

    private static TokenListParser<SqlToken, Expr> NullTest(Expr operand) =>
        from isKeyword in Keyword("IS")
        from not in Keyword("NOT").Optional()
        from nullKeyword in Keyword("NULL")
        select (Expr)new IsNull(operand, not.HasValue, operand.Line, operand.Column);

    private static TokenListParser<SqlToken, Expr> Membership(Expr operand) =>
        from not in Keyword("NOT").Optional()
        from inKeyword in Keyword("IN")
        from open in LParen
        from items in LiteralValue.AtLeastOnceDelimitedBy(Comma)
        from close in RParen
        select (Expr)new InList(operand, items, not.HasValue, operand.Line, operand.Column);

    private static readonly TokenListParser<SqlToken, Expr> Predicate =
        Primary.Then(left => Comparison(left).Or(NullTest(left)).Or(Membership(left)).OptionalOrDefault(left));

    private static readonly TokenListParser<SqlToken, Expr> Negation =
        (from not in Keyword("NOT")
         from operand in Parse.Ref(() => Negation!)
         select (Expr)new Not(operand, not.Line, not.Column))
        .Or(Predicate)
        .Named("a condition");

    private static readonly TokenListParser<SqlToken, Expr> Conjunction =
        Parse.Chain(Keyword("AND"), Negation, (_, l, r) => new Binary("AND", l, r, l.Line, l.Column));

    private static readonly TokenListParser<SqlToken, Expr> Condition =
        Parse.Chain(Keyword("OR"), Conjunction, (_, l, r) => new Binary("OR", l, r, l.Line, l.Column));


    private static readonly TokenListParser<SqlToken, (AggregateFunction Function, SourcePos At)> FunctionName = input =>
    {
        var next = input.ConsumeToken();
        if (next.HasValue && next.Value.Kind == SqlToken.Identifier)
        {
            AggregateFunction? function = next.Value.ToStringValue().ToUpperInvariant() switch
            {
                "COUNT" => AggregateFunction.Count,
                "SUM" => AggregateFunction.Sum,
                "MIN" => AggregateFunction.Min,
                "MAX" => AggregateFunction.Max,
                "AVG" => AggregateFunction.Avg,
                "LAST" => AggregateFunction.Last,
                _ => null,
            };
            if (function is { } f)
                return TokenListParserResult.Value((f, At(next.Value)), input, next.Remainder);
        }
        return TokenListParserResult.Empty<SqlToken, (AggregateFunction, SourcePos)>(input, ["aggregate"]);
    };

    private static readonly TokenListParser<SqlToken, (AggregateFunction Function, Name? Argument)> CountArgument =
        Punct(SqlToken.Star, "*").Select(_ => (AggregateFunction.Count, (Name?)null))
        .Or(from distinct in Keyword("DISTINCT")
            from column in Column
            select (AggregateFunction.CountDistinct, (Name?)column))
        .Or(Column.Select(c => (AggregateFunction.Count, (Name?)c)))
        .Named("'*', DISTINCT or column");

    // The name and '(' are tried together so a column that happens to be called "count" still parses as a column.
    private static readonly TokenListParser<SqlToken, SelectItem> Aggregate =
        from head in (from function in FunctionName
                      from open in LParen
                      select function).Try()
        from argument in head.Function == AggregateFunction.Count
            ? CountArgument
            : Column.Select(c => (Function: head.Function, Argument: (Name?)c))
        from close in RParen
        from alias in Alias
        select (SelectItem)new AggregateItem(argument.Function, head.At, argument.Argument, alias);

    private static readonly TokenListParser<SqlToken, SelectItem> PlainColumn =
        from column in Column
        from alias in Alias
        select (SelectItem)new PlainColumnItem(column, alias);

    private static readonly TokenListParser<SqlToken, SelectItem> SelectEntry =
        Aggregate.Or(PlainColumn).Named("column or aggregate");

    private static readonly TokenListParser<SqlToken, WindowSyntax> WindowKind =
        (from kind in Keyword("TUMBLING")
         from open in LParen
         from size in Duration
         from close in RParen
         select new WindowSyntax("TUMBLING", kind, [size]))
        .Or(from kind in Keyword("HOPPING")
            from open in LParen
            from size in Duration
            from comma in Comma
            from slide in Duration
            from close in RParen
            select new WindowSyntax("HOPPING", kind, [size, slide]))
        .Or(from kind in Keyword("SESSION")
            from open in LParen
            from gap in Duration
            from close in RParen
            select new WindowSyntax("SESSION", kind, [gap]));

    private static readonly TokenListParser<SqlToken, WindowSyntax?> Window =
        (from keyword in Keyword("WINDOW")
         from window in WindowKind
         select (WindowSyntax?)window).OptionalOrDefault();

    private static readonly TokenListParser<SqlToken, LatenessSyntax?> Lateness =
        (from allowed in Keyword("ALLOWED")
         from lateness in Keyword("LATENESS")
         from duration in Duration
         select (LatenessSyntax?)new LatenessSyntax(allowed, duration)).OptionalOrDefault();

    private static readonly TokenListParser<SqlToken, Expr?> Where =
        (from keyword in Keyword("WHERE")
         from condition in Condition
         select (Expr?)condition).OptionalOrDefault();

    private static readonly TokenListParser<SqlToken, OptionSyntax> Option =
        from name in NameOf("option name")
        from eq in Token.EqualToValue(SqlToken.Comparison, "=").Named("'='")
        from value in Token.EqualTo(SqlToken.Number).Or(Token.EqualTo(SqlToken.Identifier)).Named("a number or a word")
        select new OptionSyntax(name, value.ToStringValue(), value.Kind == SqlToken.Number, At(value));

    // CREATE VECTOR VIEW name AS SELECT column FROM type [WHERE condition] WITH (option = value, ...)
    private static readonly TokenListParser<SqlToken, object> VectorRest =
        from vector in Keyword("VECTOR")
        from view in Keyword("VIEW")
        from name in NameOf("view name")
        from asKeyword in Keyword("AS")
        from selectAt in Keyword("SELECT")
        from column in Column
        from fromKeyword in Keyword("FROM")
        from source in NameOf("entity type")
        from condition in Where
        from withAt in Keyword("WITH")
        from open in LParen
        from options in Option.AtLeastOnceDelimitedBy(Comma)
        from close in RParen
        from semicolon in Token.EqualTo(SqlToken.Semicolon).Optional()
        select (object)new VectorStatementSyntax(name, column, source, condition, withAt, options);

    private static readonly TokenListParser<SqlToken, StatementSyntax> ViewRest =
        from view in Keyword("VIEW")
        from name in NameOf("view name")
        from asKeyword in Keyword("AS")
        from selectAt in Keyword("SELECT")
        from items in SelectEntry.AtLeastOnceDelimitedBy(Comma)
        from fromKeyword in Keyword("FROM")
        from source in NameOf("entity type")
        from condition in Where
        from groupKeyword in Keyword("GROUP")
        from byKeyword in Keyword("BY")
        from key in Column
        from window in Window
        from lateness in Lateness
        from semicolon in Token.EqualTo(SqlToken.Semicolon).Optional()
        select new StatementSyntax(name, selectAt, items, source, condition, key, window, lateness);

    /// <summary>CREATE VIEW (a StatementSyntax) or CREATE VECTOR VIEW (a VectorStatementSyntax).</summary>
    public static TokenListParser<SqlToken, object> AnyStatement { get; } =
        from create in Keyword("CREATE")
        from rest in VectorRest.Or(ViewRest.Select(s => (object)s))
        select rest;

    /// <summary>A WHERE condition on its own (the "where" of a vector read).</summary>
    public static TokenListParser<SqlToken, Expr> StandaloneCondition { get; } = Condition;
}
