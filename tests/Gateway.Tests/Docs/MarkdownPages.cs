// The documentation as the docs specs read it: README.md, then docs/*.md in name order, each page cut into its fenced
// code blocks (CommonMark fences, so a fence shown inside a longer fence is text, not a block), its headings as the
// anchors GitHub gives them, and the links of its prose (code blocks and code spans are not prose).
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ContextLake.Gateway.Tests.Docs;

/// <summary>A fenced code block: <paramref name="Line"/> is the 1-based line of its opening fence.</summary>
public sealed record FencedBlock(string Page, int Line, string Info, IReadOnlyList<string> Lines)
{
    /// <summary>The word of the info string that marks a shell block as one the docs test runs: ```sh runnable.</summary>
    public const string RunnableMarker = "runnable";

    private string[] InfoWords => Info.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries);

    public bool IsShell => InfoWords.FirstOrDefault() is "sh" or "bash" or "shell" or "console";

    public bool IsRunnable => IsShell && InfoWords.Skip(1).Contains(RunnableMarker);
}

/// <summary>A link target as written, on the 1-based line where it is.</summary>
public sealed record MarkdownLink(int Line, string Target);

public sealed partial class MarkdownPage
{
    private MarkdownPage(string name, string fullPath, IReadOnlyList<FencedBlock> blocks, IReadOnlySet<string> anchors, IReadOnlyList<MarkdownLink> links)
    {
        Name = name;
        FullPath = fullPath;
        Blocks = blocks;
        Anchors = anchors;
        Links = links;
    }

    /// <summary>The path from the repository's root, with '/': README.md, docs/api.md.</summary>
    public string Name { get; }

    public string FullPath { get; }

    public IReadOnlyList<FencedBlock> Blocks { get; }

    /// <summary>The fragment of every heading, as GitHub computes it (duplicates get -1, -2, …).</summary>
    public IReadOnlySet<string> Anchors { get; }

    public IReadOnlyList<MarkdownLink> Links { get; }

    public static MarkdownPage Read(string root, string name)
    {
        var fullPath = Path.Combine(root, name);
        var lines = File.ReadAllLines(fullPath);
        var blocks = new List<FencedBlock>();
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var slugs = new Dictionary<string, int>(StringComparer.Ordinal);
        var links = new List<MarkdownLink>();
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Fence().Match(lines[i]);
            if (open.Success && !(open.Groups["fence"].Value[0] == '`' && open.Groups["info"].Value.Contains('`')))
            {
                var fence = open.Groups["fence"].Value;
                var body = new List<string>();
                var start = i;
                // A block runs to a closing fence of the same character, at least as long, or to the end of the page.
                for (i++; i < lines.Length; i++)
                {
                    var close = Fence().Match(lines[i]);
                    if (close.Success && close.Groups["info"].Value.Trim().Length == 0 && close.Groups["fence"].Value[0] == fence[0] &&
                        close.Groups["fence"].Value.Length >= fence.Length)
                        break;
                    body.Add(lines[i]);
                }
                blocks.Add(new FencedBlock(name, start + 1, open.Groups["info"].Value.Trim(), body));
                continue;
            }
            var heading = Heading().Match(lines[i]);
            if (heading.Success)
            {
                var slug = Slug(heading.Groups["text"].Value);
                var seen = slugs.GetValueOrDefault(slug);
                slugs[slug] = seen + 1;
                anchors.Add(seen == 0 ? slug : $"{slug}-{seen}");
            }
            var prose = CodeSpan().Replace(lines[i], "");
            foreach (Match link in InlineLink().Matches(prose)) links.Add(new MarkdownLink(i + 1, link.Groups["target"].Value));
            var definition = LinkDefinition().Match(prose);
            if (definition.Success) links.Add(new MarkdownLink(i + 1, definition.Groups["target"].Value));
        }
        return new MarkdownPage(name, fullPath, blocks, anchors, links);
    }

    /// <summary>
    /// GitHub's anchor for a heading: its text as rendered (code spans' content, links' text), lower case, without
    /// punctuation and symbols (letters, marks, digits, '_', '-' and spaces stay), spaces turned into '-'.
    /// </summary>
    public static string Slug(string heading)
    {
        var text = InlineLinkWithText().Replace(heading, "${text}").Replace("`", "", StringComparison.Ordinal);
        var slug = new StringBuilder();
        foreach (var c in text.Trim().ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (c is ' ') slug.Append('-');
            else if (c is '-' || char.IsLetterOrDigit(c) || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                     or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber)
                slug.Append(c);
        }
        return slug.ToString();
    }

    [GeneratedRegex(@"^\s*(?<fence>`{3,}|~{3,})(?<info>.*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)(\s+#+)?\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"(`+).+?\1")]
    private static partial Regex CodeSpan();

    /// <summary>The end of an inline link or image, "](target)" or "](target "title")": its text may have begun on an earlier line.</summary>
    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex InlineLinkWithText();

    [GeneratedRegex(@"^ {0,3}\[[^\]]+\]:\s+<?(?<target>[^>\s]+)>?")]
    private static partial Regex LinkDefinition();
}

public static class Documentation
{
    /// <summary>The repository's root: the folder above the test's binaries that holds ContextLake.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>README.md first, then docs/*.md in ordinal name order: the order the docs test runs their blocks in.</summary>
    public static IReadOnlyList<MarkdownPage> Pages() =>
    [
        MarkdownPage.Read(Root, "README.md"),
        .. Directory.GetFiles(Path.Combine(Root, "docs"), "*.md")
            .Select(f => "docs/" + Path.GetFileName(f))
            .Order(StringComparer.Ordinal)
            .Select(name => MarkdownPage.Read(Root, name)),
    ];

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ContextLake.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("ContextLake.sln not found above " + AppContext.BaseDirectory);
    }
}
