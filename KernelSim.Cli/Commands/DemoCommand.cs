using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios.Walkthroughs;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim demo [--trace text|mermaid] [--kernel V] [--cpu M]`: the default walkthrough, the DAX bypass
/// (<see cref="WalkthroughRegistry.Demo"/>); the same as `kernelsim walkthrough dax-bypass`.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Build the command; output goes to the terminal the factory returns.</summary>
    public static Command Create(Func<Terminal> terminal)
    {
        var kernel = CommonOptions.Kernel("What-if: run every scenario of the walkthrough on this kernel release instead of its own, 4.17 and 6.12");
        var cpu = CommonOptions.Cpu();
        var trace = new Option<string?>("--trace")
        {
            Description = "Also print the trace: text (ftrace function_graph after each step) or mermaid (a sequence diagram per scenario)",
            HelpName = "text|mermaid",
        };
        trace.AcceptOnlyFromAmong("text", "mermaid");
        var cmd = new Command("demo", "Walk through the DAX bypass: the same poisoned read through /dev/pmem0 and through a dax mount, on 4.17 (panic) and 6.12 (short read, EFAULT, badblocks, EIO)")
        {
            kernel, cpu, trace,
        };
        cmd.SetAction(r => Run(terminal(), RunCommand.Parse(r.GetValue(trace)), r.GetValue(kernel), r.GetValue(cpu)));
        return cmd;
    }

    /// <summary>Run the demo walkthrough; 0 when every expectation holds.</summary>
    public static int Run(Terminal term, Scenarios.Rendering.TraceFormat trace = Scenarios.Rendering.TraceFormat.None, Profiles.KernelVersion? kernel = null, Profiles.CpuModel? cpu = null) =>
        WalkthroughRunner.Run(WalkthroughRegistry.Demo, term, trace, kernel, cpu).Code;
}
