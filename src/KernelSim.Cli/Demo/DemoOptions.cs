using KernelSim.Profiles;

namespace KernelSim.Cli.Demo;

/// <summary>Settings of the demo walkthrough.</summary>
/// <param name="Kernel">The kernel release of the main machine (default 6.12).</param>
/// <param name="Cpu">The CPU model of the main machine (default erms).</param>
/// <param name="Trace">Print the ftrace function_graph text after each step.</param>
internal sealed record DemoOptions(KernelVersion Kernel, CpuModel Cpu, bool Trace)
{
    /// <summary>The default walkthrough: 6.12 on an ERMS CPU, no trace.</summary>
    public static DemoOptions Default { get; } = new(KernelProfile.Default.Version, CpuModel.FastString, Trace: false);
}
