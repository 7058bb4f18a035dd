using KernelSim.Cli.Rendering;

namespace KernelSim.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        using var host = CliHost.ForProcess();
        return CliApp.Run(args, Console.Out, Console.Error, Terminal.DetectColor(), host);
    }
}
