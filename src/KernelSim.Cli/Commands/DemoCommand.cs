using System.CommandLine;
using KernelSim.Cli.Demo;
using KernelSim.Cli.Rendering;
using KernelSim.Profiles;

namespace KernelSim.Cli.Commands;

/// <summary>`kernelsim demo`: the default walkthrough (see <see cref="DemoWalkthrough"/>).</summary>
internal static class DemoCommand
{
    /// <summary>Build the command; output goes to the terminal the factory returns.</summary>
    public static Command Create(Func<Terminal> terminal)
    {
        var kernel = CommonOptions.Kernel("Kernel release of the main machine (default 6.12)");
        var cpu = CommonOptions.Cpu();
        var trace = new Option<string?>("--trace")
        {
            Description = "Print the ftrace function_graph text after each step",
            HelpName = "text",
        };
        trace.AcceptOnlyFromAmong("text");
        var cmd = new Command("demo", "Walk through a machine-check-safe copy: poison, copy_mc_to_user, a panic without recovery, SIGBUS in user space")
        {
            kernel, cpu, trace,
        };
        cmd.SetAction(r =>
        {
            var opts = new DemoOptions(
                r.GetValue(kernel) ?? KernelProfile.Default.Version,
                r.GetValue(cpu) ?? CpuModel.FastString,
                r.GetValue(trace) == "text");
            return new DemoWalkthrough(opts, terminal()).Run();
        });
        return cmd;
    }
}
