// Links between the pages cannot rot: every relative link and image of README.md and docs/*.md names a file or folder
// of this repository (none outside it), and every #anchor names a heading of its page as GitHub computes anchors.
using Xunit;

namespace ContextLake.Gateway.Tests.Docs;

public sealed class DocsLinksSpec
{
    [Fact]
    public void every_relative_link_and_anchor_of_the_readme_and_docs_resolves_inside_the_repository()
    {
        var pages = Documentation.Pages();
        var byPath = pages.ToDictionary(p => Path.GetFullPath(p.FullPath), StringComparer.Ordinal);
        var root = Path.GetFullPath(Documentation.Root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var failures = new List<string>();
        var checkedLinks = 0;
        foreach (var page in pages)
        {
            foreach (var link in page.Links)
            {
                if (IsExternal(link.Target)) continue;
                checkedLinks++;
                var hash = link.Target.IndexOf('#', StringComparison.Ordinal);
                var path = Uri.UnescapeDataString(hash < 0 ? link.Target : link.Target[..hash]);
                var anchor = hash < 0 ? null : Uri.UnescapeDataString(link.Target[(hash + 1)..]);
                var target = path.Length == 0 ? Path.GetFullPath(page.FullPath) : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page.FullPath)!, path));
                var where = $"{page.Name}:{link.Line}: ({link.Target})";
                if (!target.StartsWith(root, StringComparison.Ordinal))
                {
                    failures.Add($"{where} points outside the repository, to {target}");
                    continue;
                }
                if (!File.Exists(target) && !Directory.Exists(target))
                {
                    failures.Add($"{where}: there is no {Path.GetRelativePath(root, target)}");
                    continue;
                }
                if (anchor is null) continue;
                var anchors = byPath.TryGetValue(target, out var linked) ? linked.Anchors
                    : target.EndsWith(".md", StringComparison.Ordinal) ? MarkdownPage.Read(root, Path.GetRelativePath(root, target)).Anchors
                    : null;
                if (anchors is null) failures.Add($"{where}: an anchor into a file that is not a Markdown page");
                else if (!anchors.Contains(anchor))
                    failures.Add($"{where}: {Path.GetRelativePath(root, target)} has no heading #{anchor}; its anchors: {string.Join(", ", anchors.Order(StringComparer.Ordinal))}");
            }
        }
        Assert.True(checkedLinks > 20, $"only {checkedLinks} relative links found: is the link reader broken?");
        Assert.True(failures.Count == 0, $"{failures.Count} broken link(s):\n{string.Join('\n', failures)}");
    }

    [Theory]
    [InlineData("Subscriptions (live feeds)", "subscriptions-live-feeds")]
    [InlineData("The two commands", "the-two-commands")]
    [InlineData("Admin API and `contextlake`", "admin-api-and-contextlake")]
    [InlineData("2. Freshness: produce → visible at the committed epoch", "2-freshness-produce--visible-at-the-committed-epoch")]
    [InlineData("See [Views](views.md) and State:Partitions_x", "see-views-and-statepartitions_x")]
    public void anchors_are_computed_from_headings_as_github_does(string heading, string anchor) =>
        Assert.Equal(anchor, MarkdownPage.Slug(heading));

    private static bool IsExternal(string target) =>
        target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase);
}
