// A runnable block cut into steps: a run of command lines, then the '#' lines right after them, which show what those
// commands print ("# " and then the text; a bare "#" is an empty line). '#' lines before the block's first command are
// comments, as are comments at the end of a command line; a step followed by no '#' line shows nothing to compare.
namespace ContextLake.Gateway.Tests.Docs;

/// <summary>One step; <paramref name="Line"/> is the 1-based page line of its first command.</summary>
public sealed record BlockStep(int Line, IReadOnlyList<string> Commands, string? Shown)
{
    public static IReadOnlyList<BlockStep> Of(FencedBlock block)
    {
        var steps = new List<BlockStep>();
        var commands = new List<string>();
        List<string>? shown = null;
        var first = 0;
        for (var i = 0; i < block.Lines.Count; i++)
        {
            var line = block.Lines[i];
            if (line.StartsWith('#'))
            {
                if (commands.Count == 0) continue; // a comment before the first command
                shown ??= [];
                shown.Add(line.Length > 1 && line[1] == ' ' ? line[2..] : line[1..]);
                continue;
            }
            if (shown is not null)
            {
                steps.Add(new BlockStep(first, commands, string.Join('\n', shown)));
                commands = [];
                shown = null;
            }
            if (commands.Count == 0 && line.Trim().Length == 0) continue;
            if (commands.Count == 0) first = block.Line + 1 + i;
            commands.Add(line);
        }
        if (commands.Count > 0) steps.Add(new BlockStep(first, commands, shown is null ? null : string.Join('\n', shown)));
        return steps;
    }
}
