using System.Globalization;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The campaign chart, drawn with OxyPlot and exported as self-contained SVG (no native code, no fonts or
/// scripts to fetch): one stacked bar per profile of the seeds by worst outcome, a seed axis, the count on each
/// segment and a legend, one distinct colour per outcome.
/// </summary>
public static class CampaignChart
{
    public const int Width = 900;

    /// <summary>A colour per outcome, all distinct (the severe ones red to black).</summary>
    public static string Color(Outcome o) => o switch
    {
        Outcome.Injected => "#bdbdbd",
        Outcome.Complete => "#43a047",
        Outcome.ShortCount => "#9ccc65",
        Outcome.PoisonAccepted => "#fdd835",
        Outcome.Efault => "#29b6f6",
        Outcome.Eio => "#3949ab",
        Outcome.OtherErrno => "#78909c",
        Outcome.SigsegvMaperr => "#ffb74d",
        Outcome.SigsegvAccerr => "#f57c00",
        Outcome.SigbusAdrerr => "#ff8a65",
        Outcome.SigbusAo => "#f4511e",
        Outcome.SigbusAr => "#bf360c",
        Outcome.Oops => "#8d6e63",
        Outcome.Livelock => "#6d4c41",
        Outcome.VmStop => "#ab47bc",
        Outcome.Panic => "#d32f2f",
        Outcome.SilentCorruption => "#000000",
        Outcome.Leak => "#4a148c",
        _ => "#ec407a",
    };

    /// <summary>Room for the bars and for the legend (one line per outcome, on the right).</summary>
    public static int Height(CampaignSummary s) => Math.Max(110 + 60 * Math.Max(1, s.Profiles.Count), 70 + 19 * s.Table.Count);

    public static string Svg(CampaignSummary s)
    {
        var model = new PlotModel
        {
            Title = $"{s.Name}: seeds by worst outcome ({s.Seeds} seeds)",
            Culture = CultureInfo.InvariantCulture,
            DefaultFont = "sans-serif",
            TitleFontSize = 15,
            Background = OxyColors.White,
            Padding = new OxyThickness(8),
        };
        model.Legends.Add(new Legend
        {
            LegendPlacement = LegendPlacement.Outside,
            LegendPosition = LegendPosition.RightTop,
            LegendOrientation = LegendOrientation.Vertical,
            LegendFontSize = 12,
            LegendItemSpacing = 4,
            // Slack in the legend's clip box: the exporter measures Helvetica, browsers often draw a wider sans-serif.
            LegendPadding = 24,
        });
        // The campaign's first profile on top.
        var profiles = new CategoryAxis { Position = AxisPosition.Left, Title = "profile", StartPosition = 1, EndPosition = 0, IsZoomEnabled = false, IsPanEnabled = false };
        foreach (var p in s.Profiles) profiles.Labels.Add($"Linux {p}");
        model.Axes.Add(profiles);
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Bottom,
            Title = "seeds",
            Minimum = 0,
            MaximumPadding = 0.02,
            MajorGridlineStyle = LineStyle.Solid,
            MajorGridlineColor = OxyColor.FromRgb(0xdd, 0xdd, 0xdd),
            StringFormat = "0",
        });
        foreach (var (o, row) in s.Table)
        {
            if (s.Profiles.All(p => row.GetValueOrDefault(p).Seeds == 0)) continue;
            var bar = new BarSeries
            {
                Title = Outcomes.Name(o),
                IsStacked = true,
                FillColor = OxyColor.Parse(Color(o)),
                StrokeColor = OxyColors.White,
                StrokeThickness = 0.5,
            };
            foreach (var p in s.Profiles) bar.Items.Add(new BarItem(row.GetValueOrDefault(p).Seeds));
            model.Series.Add(bar);
        }
        // The count on each segment wide enough to hold it (a label on a sliver would cover its neighbours).
        for (var i = 0; i < s.Profiles.Count; i++)
        {
            var p = s.Profiles[i];
            var total = s.Table.Values.Sum(row => row.GetValueOrDefault(p).Seeds);
            double x = 0;
            foreach (var (o, row) in s.Table)
            {
                var n = row.GetValueOrDefault(p).Seeds;
                if (n > 0 && n >= 0.03 * total)
                {
                    model.Annotations.Add(new TextAnnotation
                    {
                        Text = n.ToString(CultureInfo.InvariantCulture),
                        TextPosition = new DataPoint(x + n / 2.0, i),
                        TextHorizontalAlignment = HorizontalAlignment.Center,
                        TextVerticalAlignment = VerticalAlignment.Middle,
                        Stroke = OxyColors.Transparent,
                        FontSize = 11,
                        TextColor = Light(o) ? OxyColors.Black : OxyColors.White,
                    });
                }
                x += n;
            }
        }
        var svg = SvgExporter.ExportToString(model, Width, Height(s), isDocument: false);
        // Without the XML declaration the same text is a standalone file and an element to inline in HTML.
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return svg[start..].TrimEnd() + "\n";
    }

    private static bool Light(Outcome o) => o is Outcome.Injected or Outcome.Complete or Outcome.ShortCount or Outcome.PoisonAccepted or Outcome.Efault or Outcome.SigsegvMaperr or Outcome.SigbusAdrerr;
}
