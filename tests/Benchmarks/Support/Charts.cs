// PNG charts (ScottPlot) written beside docs/benchmarks.md; each returns the Markdown that embeds it. Log scales
// start at 0.1, or lower when a value is (sub-0.1 ms Redis reads).
using ScottPlot;

namespace ContextLake.Benchmarks.Support;

public static class Charts
{
    private static readonly Color[] Palette =
        [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.FireBrick, Colors.MediumPurple, Colors.GoldenRod,
         Colors.Teal, Colors.HotPink, Colors.SlateGray, Colors.Olive];

    /// <summary>Bars grouped by category, one series per colour (e.g. p50/p99/p99.9 per system).</summary>
    public static string Grouped(string file, string title, string yLabel, string[] categories, (string Name, double[] Values)[] series, bool logScale = false)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var width = 0.8 / series.Length;
        // On a log scale the bars stand on 0.1, or on the power of ten under the smallest value when one is below it (down to 0.001).
        var positive = series.SelectMany(x => x.Values).Where(v => v > 0 && double.IsFinite(v)).DefaultIfEmpty(1).Min();
        var floor = logScale ? (int)Math.Clamp(Math.Floor(Math.Log10(positive)), -3, -1) : 0;
        for (var s = 0; s < series.Length; s++)
            for (var c = 0; c < categories.Length; c++)
            {
                var v = series[s].Values[c];
                if (double.IsNaN(v) || double.IsInfinity(v)) continue;
                bars.Add(new Bar
                {
                    Position = c - 0.4 + width * (s + 0.5), Value = logScale ? Math.Log10(Math.Max(v, Math.Pow(10, floor))) : v,
                    ValueBase = floor, FillColor = Palette[s % Palette.Length], Size = width * 0.9,
                });
            }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            categories.Select((_, i) => (double)i).ToArray(), categories);
        if (logScale)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (var e = floor; e <= 6; e++) ticks.AddMajor(e, Math.Pow(10, e).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));
            plot.Axes.Left.TickGenerator = ticks;
        }
        if (series.Length > 1)
        {
            for (var s = 0; s < series.Length; s++)
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = Palette[s % Palette.Length] });
            plot.ShowLegend(Alignment.UpperLeft);
        }
        plot.Title(title);
        plot.YLabel(logScale ? yLabel + " (log scale)" : yLabel);
        plot.Axes.Margins(bottom: 0);
        Directory.CreateDirectory(Bench.ChartsDirectory);
        plot.SavePng(Path.Combine(Bench.ChartsDirectory, file), 900, 450);
        return $"![{title}]({Bench.ChartsLink}/{file})";
    }

    public static string Bars(string file, string title, string yLabel, string[] categories, double[] values, bool logScale = false) =>
        Grouped(file, title, yLabel, categories, [(yLabel, values)], logScale);
}
