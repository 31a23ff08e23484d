// CREATE VIEW text to ViewDefinition: Superpower does the syntax, this file the rules a grammar cannot state.
using System.Runtime.CompilerServices;
using ContextLake.Views.Definitions;
using ContextLake.Views.Vectors;
using Superpower;
using Superpower.Model;

namespace ContextLake.Views.Sql;

public static partial class ViewSql
{
    // Validate runs later, on the record alone; this remembers where Parse saw the names it checks.
    private static readonly ConditionalWeakTable<ViewDefinition, SourceMap> Maps = new();

    /// <summary>Parses one CREATE VIEW or CREATE VECTOR VIEW statement; throws <see cref="ViewDefinitionException"/> at the first problem.</summary>
    public static ViewDefinition Parse(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var text = sql.Trim();
        var parsed = ParseSyntax(sql);
        if (parsed is VectorStatementSyntax vector) return VectorView(vector, text);
        var statement = (StatementSyntax)parsed;
        var (key, aggregates) = CheckSelectList(statement);
        var view = new ViewDefinition(
            statement.View.Text,
            statement.Source.Text,
            statement.GroupBy.Text,
            key.Alias?.Text ?? key.Column.Text,
            aggregates.Select(a => new AggregateColumn(a.Function, a.Argument?.Text, AliasOf(a))).ToList(),
            statement.Where,
            BuildWindow(statement),
            text);
        Maps.AddOrUpdate(view, new SourceMap(
            statement.Source.At,
            statement.GroupBy.At,
            aggregates.Select(a => a.Argument?.At ?? a.At).ToList()));
        return view;
    }

    /// <summary>
    /// Parses a condition written on its own (a vector read's "where"); positions in errors count within
    /// <paramref name="condition"/>. Check it against the source's columns with <see cref="ValidateCondition"/>.
    /// </summary>
    public static Expr ParseCondition(string condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var tokens = SqlTokens.Tokenizer.TryTokenize(condition);
        if (!tokens.HasValue)
            throw TokenizeError(condition, tokens);
        var result = SqlGrammar.StandaloneCondition.TryParse(tokens.Value);
        if (!result.HasValue)
            throw SyntaxError(condition, result.Remainder, result.Expectations ?? ["a condition"]);
        if (!result.Remainder.IsAtEnd)
            throw SyntaxError(condition, result.Remainder, ["end of condition"]);
        return result.Value;
    }

    private static ViewDefinition VectorView(VectorStatementSyntax statement, string text)
    {
        int? dimensions = null;
        var metric = VectorMetric.Cosine;
        var partitions = VectorSpec.DefaultPartitions;
        var probes = IvfOptions.DefaultProbes;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var option in statement.Options)
        {
            var name = option.Name.Text.ToLowerInvariant();
            if (!seen.Add(name))
                throw Error(option.Name.At, $"option {name} is given more than once");
            switch (name)
            {
                case "dimensions":
                    dimensions = WholeNumber(option, 1, VectorSpec.MaxDimensions);
                    break;
                case "partitions":
                    partitions = WholeNumber(option, 1, VectorSpec.MaxPartitions);
                    break;
                case "probes":
                    probes = WholeNumber(option, 1, VectorSpec.MaxProbes);
                    break;
                case "metric":
                    metric = option.Value.ToLowerInvariant() switch
                    {
                        "cosine" when !option.IsNumber => VectorMetric.Cosine,
                        "dot" when !option.IsNumber => VectorMetric.Dot,
                        _ => throw Error(option.ValueAt, $"metric must be cosine or dot, not {option.Value}"),
                    };
                    break;
                default:
                    throw Error(option.Name.At, $"unknown option '{option.Name.Text}' of a vector view; options are dimensions, metric, partitions, probes");
            }
        }
        if (dimensions is not { } d)
            throw Error(statement.WithAt, "a vector view needs WITH (dimensions = N, ...): how many numbers each vector has");

        var view = new ViewDefinition(statement.View.Text, statement.Source.Text, statement.Column.Text, statement.Column.Text, [],
            statement.Where, null, text, new VectorSpec(d, metric, partitions, probes));
        Maps.AddOrUpdate(view, new SourceMap(statement.Source.At, statement.Column.At, []));
        return view;
    }

    private static int WholeNumber(OptionSyntax option, int min, int max) =>
        option.IsNumber && int.TryParse(option.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw Error(option.ValueAt, $"{option.Name.Text.ToLowerInvariant()} must be a whole number from {min} to {max}, not {option.Value}");

    private static object ParseSyntax(string sql)
    {
        var tokens = SqlTokens.Tokenizer.TryTokenize(sql);
        if (!tokens.HasValue)
            throw TokenizeError(sql, tokens);

        var result = SqlGrammar.AnyStatement.TryParse(tokens.Value);
        if (!result.HasValue)
            throw SyntaxError(sql, result.Remainder, result.Expectations ?? ["a CREATE VIEW statement"]);
        if (!result.Remainder.IsAtEnd)
            throw SyntaxError(sql, result.Remainder, ["end of statement"]);
        return result.Value;
    }

    private static ViewDefinitionException TokenizeError(string sql, Result<TokenList<SqlToken>> tokens)
    {
        var at = tokens.ErrorPosition.HasValue ? tokens.ErrorPosition : tokens.Remainder.Position;
        var offset = at.HasValue ? at.Absolute : 0;
        var reason = offset >= sql.Length
            ? "unexpected end of input"
            : sql[offset] switch
            {
                '\'' => "unterminated string literal",
                '"' => "unterminated quoted identifier",
                var c when char.IsAsciiDigit(c) => $"'{WordAt(sql, offset)}' is neither a number nor a duration (a whole number followed by ms, s, m, h or d)",
                var c => $"unexpected character '{c}'",
            };
        var pos = PositionAt(sql, offset);
        return new ViewDefinitionException(reason, pos.Line, pos.Column);
    }

    private static string WordAt(string text, int offset)
    {
        var end = offset;
        while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '_' or '.'))
            end++;
        return text[offset..end];
    }

    private static ViewDefinitionException SyntaxError(string sql, TokenList<SqlToken> remainder, string[] expectations)
    {
        var expected = expectations.Length == 0 ? "more input" : JoinOr(expectations.Distinct().ToList());
        var next = remainder.ConsumeToken();
        if (!next.HasValue)
        {
            var end = PositionAt(sql, sql.TrimEnd().Length);
            return new ViewDefinitionException($"expected {expected}, found end of input", end.Line, end.Column);
        }
        var token = next.Value;
        return new ViewDefinitionException($"expected {expected}, found '{token.ToStringValue()}'", token.Position.Line, token.Position.Column);
    }

    private static string JoinOr(IReadOnlyList<string> items) =>
        items.Count == 1 ? items[0] : $"{string.Join(", ", items.Take(items.Count - 1))} or {items[^1]}";

    private static SourcePos PositionAt(string text, int offset)
    {
        int line = 1, column = 1;
        for (var i = 0; i < offset && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return new SourcePos(line, column);
    }

    private static ViewDefinitionException Error(SourcePos at, string reason) => new(reason, at.Line, at.Column);

    private static string AliasOf(AggregateItem item) => item.Alias?.Text ?? DefaultAlias(item.Function, item.Argument?.Text);

    private static string DefaultAlias(AggregateFunction function, string? argument) => (function, argument) switch
    {
        (AggregateFunction.Count, null) => "count",
        (AggregateFunction.CountDistinct, _) => $"count_distinct_{argument}",
        _ => $"{function.ToString().ToLowerInvariant()}_{argument}",
    };

    private static (PlainColumnItem Key, IReadOnlyList<AggregateItem> Aggregates) CheckSelectList(StatementSyntax statement)
    {
        PlainColumnItem? key = null;
        var aliases = new Dictionary<string, SourcePos>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in statement.Items)
        {
            if (item is PlainColumnItem column)
            {
                if (column.Column.Text != statement.GroupBy.Text)
                    throw Error(column.At, $"column {column.Column.Text} must appear in GROUP BY or inside an aggregate");
                if (key is not null)
                    throw Error(column.At, $"GROUP BY column {column.Column.Text} appears more than once in SELECT");
                key = column;
            }

            var alias = item switch
            {
                PlainColumnItem c => c.Alias ?? c.Column,
                AggregateItem a => a.Alias ?? new Name(AliasOf(a), a.At),
                _ => throw new InvalidOperationException($"unknown select item {item.GetType().Name}"),
            };
            if (!aliases.TryAdd(alias.Text, alias.At))
                throw Error(alias.At, $"duplicate column name {alias.Text} in SELECT; give one of them another name with AS");
        }

        if (key is null)
            throw Error(statement.GroupBy.At, $"GROUP BY column {statement.GroupBy.Text} must appear in SELECT");
        var aggregates = statement.Items.OfType<AggregateItem>().ToList();
        if (aggregates.Count == 0)
            throw Error(statement.SelectAt, "SELECT needs at least one aggregate (COUNT, SUM, MIN, MAX, AVG or LAST)");
        return (key, aggregates);
    }

    private static WindowSpec? BuildWindow(StatementSyntax statement)
    {
        if (statement.Window is not { } window)
        {
            if (statement.Lateness is { } orphan)
                throw Error(orphan.At, "ALLOWED LATENESS needs a WINDOW clause before it");
            return null;
        }

        foreach (var duration in window.Durations)
        {
            if (duration.Value <= TimeSpan.Zero)
                throw Error(duration.At, $"a window duration must be greater than zero, found {duration.Text}");
        }

        WindowSpec spec = window.Kind switch
        {
            "TUMBLING" => new TumblingWindow(window.Durations[0].Value),
            "HOPPING" => Hopping(window.Durations[0], window.Durations[1]),
            "SESSION" => new SessionWindow(window.Durations[0].Value),
            _ => throw new InvalidOperationException($"unknown window kind {window.Kind}"),
        };
        return statement.Lateness is { } lateness ? spec with { AllowedLateness = lateness.Duration.Value } : spec;
    }

    // Every event must fall into a whole number of hops, so the size has to be a multiple of the slide.
    private static HoppingWindow Hopping(DurationLit size, DurationLit slide)
    {
        if (slide.Value > size.Value)
            throw Error(slide.At, $"HOPPING slide {slide.Text} is larger than its size {size.Text}");
        if (size.Value.Ticks % slide.Value.Ticks != 0)
            throw Error(size.At, $"HOPPING size {size.Text} is not a multiple of its slide {slide.Text}");
        return new HoppingWindow(size.Value, slide.Value);
    }
}
