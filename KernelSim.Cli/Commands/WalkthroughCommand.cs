using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios;
using KernelSim.Scenarios.Rendering;
using KernelSim.Scenarios.Walkthroughs;
using Spectre.Console;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim walkthrough [list|NAME] [--trace text|mermaid [--step N]] [--trace-out FILE] [--html FILE [--profiles V,...]]`:
/// the built-in walkthroughs.
/// </summary>
internal static class WalkthroughCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var name = new Argument<string?>("name")
        {
            Description = "A walkthrough name, or list (the default) to see them all",
            Arity = ArgumentArity.ZeroOrOne,
        }.NoOptions(files: false);
        var trace = new Option<string?>("--trace")
        {
            Description = "Also print the trace: text (ftrace function_graph after each step) or mermaid (a sequence diagram per scenario)",
            HelpName = "text|mermaid",
        };
        trace.AcceptOnlyFromAmong("text", "mermaid");
        var step = TraceOptions.Step();
        var traceOut = TraceOptions.Out();
        var html = HtmlOptions.Html();
        var profiles = HtmlOptions.Profiles();
        var cmd = new Command("walkthrough", "Run a built-in walkthrough (a scenario with a story), or list them") { name, trace, step, traceOut, html, profiles };
        TraceOptions.RequireMermaidForStep(cmd, step, trace);
        HtmlOptions.Validate(cmd, html, profiles, trace, step, traceOut);
        cmd.SetAction(r =>
        {
            var n = r.GetValue(name);
            var term = terminal();
            if (n is null or "list")
            {
                List(term);
                return 0;
            }
            var w = WalkthroughRegistry.Find(n);
            if (w == null)
            {
                var err = errorTerminal();
                err.Line($"kernelsim: unknown walkthrough '{n}' (known: {string.Join(", ", WalkthroughRegistry.All.Select(x => x.Name))})");
                err.Writer.Flush();
                return ExitCodes.Usage;
            }
            if (r.GetValue(html) is { } file)
                return HtmlOptions.Write(file, $"KernelSim walkthrough {w.Name}: {w.Title}", w.Summary, w.File, $"kernelsim walkthrough {w.Name}",
                    ScenarioParser.ParseText(w.File, w.Text()), r.GetValue(profiles) ?? [], w.Compare, term, errorTerminal());
            var (code, results) = WalkthroughRunner.Run(w, term, RunCommand.Parse(r.GetValue(trace)), mermaidStep: r.GetValue(step));
            if (r.GetValue(traceOut) is { } traceFile && TraceOptions.Write(traceFile, results) is { } writeError)
            {
                var err = errorTerminal();
                err.Line($"kernelsim: {writeError}");
                err.Writer.Flush();
                return ExitCodes.CannotCreate;
            }
            return code;
        });
        return cmd;
    }

    public static void List(Terminal term)
    {
        term.Heading("Built-in walkthroughs (kernelsim walkthrough NAME)");
        var t = new Table();
        t.AddColumn("name");
        t.AddColumn("title");
        t.AddColumn("scenario file");
        t.AddColumn("what it shows");
        foreach (var w in WalkthroughRegistry.All)
            t.AddRow(Markup.Escape(w.Name), Markup.Escape(w.Title), Markup.Escape(w.File), Markup.Escape(w.Summary));
        term.Table(t);
    }
}
