// The aims, each judged against the figure a scenario measured in this run, for the report's summary.
using System.Text;

namespace ContextLake.Benchmarks.Support;

public static class Aims
{
    private static readonly List<(string Aim, string Measured, bool Met)> Rows = [];

    public static void Record(string aim, string measured, bool met)
    {
        lock (Rows) Rows.Add((aim, measured, met));
    }

    public static string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("## Aims, judged on this run");
        md.AppendLine();
        lock (Rows)
            md.AppendLine(Bench.Table(["aim", "measured", "met"], Rows.Select(r => new[] { r.Aim, r.Measured, r.Met ? "yes" : "**no**" })));
        return md.ToString();
    }
}
