using KernelSim.Scenarios.Campaigns;
using KernelSim.Scenarios.Walkthroughs;
using KernelSim.Scenarios.Rendering;
using Spectre.Console;

namespace KernelSim.Cli.Rendering;

/// <summary>
/// Where a command writes: a <see cref="TextWriter"/> plus a Spectre.Console view of it for tables and
/// colour. Plain mode (output redirected, NO_COLOR set, TERM=dumb, or tests) writes no ANSI escapes, uses
/// ASCII table borders and a fixed width, so captured output is byte-for-byte deterministic.
/// </summary>
public sealed class Terminal
{
    /// <summary>Width used for tables when the output is not an interactive terminal.</summary>
    public const int PlainWidth = 140;

    public Terminal(TextWriter writer, bool color)
    {
        Writer = writer;
        Color = color;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!color) Console.Profile.Width = PlainWidth;
    }

    /// <summary>The raw writer (plain lines go here unwrapped).</summary>
    public TextWriter Writer { get; }

    /// <summary>Whether ANSI colour is used.</summary>
    public bool Color { get; }

    /// <summary>The Spectre console over <see cref="Writer"/>.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>
    /// Colour only for an interactive terminal: not when stdout is redirected, NO_COLOR is set
    /// (https://no-color.org) or TERM is "dumb".
    /// </summary>
    public static bool DetectColor()
    {
        if (System.Console.IsOutputRedirected) return false;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))) return false;
        return !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
    }

    /// <summary>A plain line, written as is (never wrapped or re-encoded).</summary>
    public void Line(string text = "") => Writer.Write(text + "\n");

    /// <summary>A heading: bold when colour is on, plain text otherwise.</summary>
    public void Heading(string text) => Styled(text, "bold");

    /// <summary>A line in a style ("green", "red", "bold yellow") when colour is on, plain otherwise.</summary>
    public void Styled(string text, string style)
    {
        if (!Color)
        {
            Line(text);
            return;
        }
        // Spectre wraps renderables at the console width; a heading is one line whatever the width.
        var width = Console.Profile.Width;
        Console.Profile.Width = Math.Max(width, text.Length + 1);
        Console.Write(new Text(text, Style.Parse(style)));
        Console.Profile.Width = width;
        Writer.Write("\n");
        Writer.Flush();
    }

    /// <summary>A block of preformatted text (a trace), indented, unwrapped.</summary>
    public void Block(string text, string indent = "    ")
    {
        foreach (var l in text.Split('\n'))
        {
            if (l.Length == 0) continue;
            Line(indent + l);
        }
    }

    /// <summary>A table: ASCII borders in plain mode, rounded ones in colour.</summary>
    public void Table(Table table)
    {
        table.Border(Color ? TableBorder.Rounded : TableBorder.Ascii);
        Console.Write(table);
        Writer.Flush();
    }
}
