// The view dialect's lexical layer: Superpower recognizers that cut SQL text into tokens, keywords being plain identifiers.
using Superpower;
using Superpower.Model;
using Superpower.Parsers;
using Superpower.Tokenizers;

namespace ContextLake.Views.Sql;

internal enum SqlToken
{
    Identifier,
    QuotedIdentifier,
    Number,
    Duration,
    String,
    Comparison,
    LParen,
    RParen,
    Comma,
    Semicolon,
    Star,
}

internal static class SqlTokens
{
    // A duration is a single token so that "10m" never splits into a number and an identifier "m".
    private static readonly TextParser<TextSpan> DurationText =
        from digits in Numerics.Natural
        from unit in Span.EqualToIgnoreCase("ms").Try()
            .Or(Span.EqualToIgnoreCase("s"))
            .Or(Span.EqualToIgnoreCase("m"))
            .Or(Span.EqualToIgnoreCase("h"))
            .Or(Span.EqualToIgnoreCase("d"))
        select unit;

    private static readonly TextParser<string> QuotedIdentifierText =
        from open in Character.EqualTo('"')
        from chars in Span.EqualTo("\"\"").Value('"').Try().Or(Character.Except('"')).Many()
        from close in Character.EqualTo('"')
        select new string(chars);

    public static Tokenizer<SqlToken> Tokenizer { get; } = new TokenizerBuilder<SqlToken>()
        .Ignore(Span.WhiteSpace)
        .Ignore(Comment.SqlStyle)
        .Match(Span.EqualTo("<="), SqlToken.Comparison)
        .Match(Span.EqualTo(">="), SqlToken.Comparison)
        .Match(Span.EqualTo("<>"), SqlToken.Comparison)
        .Match(Span.EqualTo("!="), SqlToken.Comparison)
        .Match(Span.EqualTo("="), SqlToken.Comparison)
        .Match(Span.EqualTo("<"), SqlToken.Comparison)
        .Match(Span.EqualTo(">"), SqlToken.Comparison)
        .Match(Character.EqualTo('('), SqlToken.LParen)
        .Match(Character.EqualTo(')'), SqlToken.RParen)
        .Match(Character.EqualTo(','), SqlToken.Comma)
        .Match(Character.EqualTo(';'), SqlToken.Semicolon)
        .Match(Character.EqualTo('*'), SqlToken.Star)
        .Match(DurationText, SqlToken.Duration, requireDelimiters: true)
        .Match(Numerics.Decimal, SqlToken.Number, requireDelimiters: true)
        .Match(QuotedString.SqlStyle, SqlToken.String)
        .Match(QuotedIdentifierText, SqlToken.QuotedIdentifier)
        .Match(Identifier.CStyle, SqlToken.Identifier, requireDelimiters: true)
        .Build();

    /// <summary>The text of a quoted identifier or string token without its quotes and escapes.</summary>
    public static string Unquote(Token<SqlToken> token)
    {
        var raw = token.ToStringValue();
        var quote = raw[0];
        return raw[1..^1].Replace(new string(quote, 2), quote.ToString(), StringComparison.Ordinal);
    }
}
