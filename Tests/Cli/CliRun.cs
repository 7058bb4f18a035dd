using KernelSim.Cli;

namespace KernelSim.Tests.Cli;

/// <summary>Runs the kernelsim command line in-process with captured stdout/stderr.</summary>
public static class CliRun
{
    /// <summary>Exit code, stdout and stderr of one invocation (plain output unless color is set).</summary>
    public static (int Code, string Out, string Err) Invoke(bool color, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var code = CliApp.Run(args, stdout, stderr, color);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Plain (redirected-style) invocation.</summary>
    public static (int Code, string Out, string Err) Invoke(params string[] args) => Invoke(false, args);
}
