// What a page shows a command printing, held against what it printed: whitespace is left out of both (so an answer
// may be wrapped over several lines and a table's columns padded differently), '…' stands for any text (a time, an
// address, an epoch number), and everything else must be there, in order, from the first character to the last.
using System.Text;

namespace ContextLake.Gateway.Tests.Docs;

public static class ShownOutput
{
    public const char Wildcard = '…';

    /// <summary>Null when <paramref name="printed"/> is what <paramref name="shown"/> shows; otherwise where they part.</summary>
    public static string? Difference(string shown, string printed)
    {
        var pieces = WithoutWhitespace(shown).Split(Wildcard);
        var text = WithoutWhitespace(printed);

        // Literal pieces between wildcards, matched leftmost first: if any placement of them fits, this one does.
        if (!text.StartsWith(pieces[0], StringComparison.Ordinal)) return Parting(pieces[0], text, 0, anchored: true);
        var at = pieces[0].Length;
        if (pieces.Length == 1)
            return at == text.Length ? null : $"it printed more than shown, from: {Excerpt(text, at)}";
        for (var i = 1; i < pieces.Length - 1; i++)
        {
            var found = text.IndexOf(pieces[i], at, StringComparison.Ordinal);
            if (found < 0) return Parting(pieces[i], text, at, anchored: false);
            at = found + pieces[i].Length;
        }
        var last = pieces[^1];
        if (!text.EndsWith(last, StringComparison.Ordinal) || text.Length - last.Length < at)
            return $"it should end with {Quote(last)} after {Excerpt(text, Math.Max(0, at - 40), 40)}; it ends with {Quote(text[Math.Max(at, text.Length - Math.Max(last.Length, 60))..])}";
        return null;
    }

    /// <summary>
    /// The longest start of <paramref name="piece"/> printed from <paramref name="at"/> (right there when it is
    /// <paramref name="anchored"/>), and what was printed where the rest of it is shown.
    /// </summary>
    private static string Parting(string piece, string text, int at, bool anchored)
    {
        for (var length = piece.Length - 1; length > 0; length--)
        {
            var found = text.IndexOf(piece[..length], at, StringComparison.Ordinal);
            if (found < 0 || (anchored && found != at)) continue;
            return $"after {Quote(Tail(piece[..length], 60))} it shows {Quote(Head(piece[length..], 60))} where it printed {Excerpt(text, found + length)}";
        }
        return $"it shows {Quote(Head(piece, 60))} where it printed {Excerpt(text, at)}";
    }

    public static string WithoutWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            if (!char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }

    private static string Excerpt(string text, int from, int length = 80) =>
        from >= text.Length ? "(nothing more)" : Quote(Head(text[from..], length));

    private static string Head(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private static string Tail(string text, int length) => text.Length <= length ? text : "…" + text[^length..];

    private static string Quote(string text) => $"«{text}»";
}
