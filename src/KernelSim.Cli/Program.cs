namespace KernelSim.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.WriteLine("kernelsim: commands are being built (see README.md)");
        return args.Length == 0 ? 0 : 2;
    }
}
