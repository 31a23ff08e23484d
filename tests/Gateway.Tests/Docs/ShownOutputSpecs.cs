// The docs test's comparison can fail: shown output is matched against printed output with '…' for any text and
// whitespace left out, and a wrong word, a missing piece or something printed beyond what is shown is a difference.
// The fence and step reading of a page is held here too.
using Xunit;

namespace ContextLake.Gateway.Tests.Docs;

public sealed class ShownOutputSpecs
{
    [Theory]
    [InlineData("{\"n\":1,\"at\":\"…\"}", "{\"n\":1,\"at\":\"2026-12-07T17:16:42Z\"}")]
    [InlineData("{\"n\":1,\n  \"at\":\"…\"}", "{\"n\":1,\"at\":\"x\"}")]
    [InlineData("NAME   KEY\ncredits  to_account", "NAME KEY\ncredits            to_account\n")]
    [InlineData("…", "")]
    [InlineData("a…b…c", "abc")]
    [InlineData("a…b…b", "ab-b-b")]
    public void what_is_shown_matches(string shown, string printed) => Assert.Null(ShownOutput.Difference(shown, printed));

    [Theory]
    [InlineData("{\"total\":5}", "{\"amount\":5}", "«total\":5}» where it printed «amount\":5}»")]
    [InlineData("{\"n\":1}", "{\"n\":1}{\"n\":2}", "printed more than shown")]
    [InlineData("a…c", "abd", "should end with «c»")]
    [InlineData("a…x…c", "abc", "it shows «x»")]
    [InlineData("{\"n\":1}", "", "where it printed (nothing more)")]
    public void a_difference_is_named_where_it_starts(string shown, string printed, string expected) =>
        Assert.Contains(expected, ShownOutput.Difference(shown, printed));

    [Fact]
    public void a_runnable_block_is_cut_into_steps_and_only_its_outer_fences_count()
    {
        var page = Path.Combine(Directory.CreateTempSubdirectory("contextlake-docs-page-").FullName, "page.md");
        File.WriteAllText(page, """
            # Page

            ````markdown
            ```sh runnable
            echo not a block of its own
            ```
            ````

            ```sh runnable
            # a comment before the first command
            echo one
            # one
            echo two   # a comment at the end of a line
            echo three
            # two
            #
            # three

            echo four
            ```

            ```sh
            not runnable
            ```
            """);
        var read = MarkdownPage.Read(Path.GetDirectoryName(page)!, "page.md");
        Assert.Equal(["markdown", "sh runnable", "sh"], read.Blocks.Select(b => b.Info));
        Assert.Equal([false, true, false], read.Blocks.Select(b => b.IsRunnable));
        var steps = BlockStep.Of(read.Blocks[1]);
        Assert.Equal([11, 13, 19], steps.Select(s => s.Line));
        Assert.Equal(["one", "two\n\nthree", null], steps.Select(s => s.Shown));
        Assert.Equal(["echo two   # a comment at the end of a line", "echo three"], steps[1].Commands);
        Directory.Delete(Path.GetDirectoryName(page)!, recursive: true);
    }
}
