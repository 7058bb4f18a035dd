using System.CommandLine;
using KernelSim.Cli.Commands;
using KernelSim.Cli.Rendering;

namespace KernelSim.Cli;

/// <summary>
/// The `kernelsim` command line: parses, reports bad arguments on stderr with exit code 2 (never a stack
/// trace), and runs the chosen command against the given writers so tests can capture everything.
/// </summary>
internal static class CliApp
{
    /// <summary>Exit code for bad arguments (usage error).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code when a command fails unexpectedly (a simulator bug).</summary>
    public const int InternalError = 70;

    /// <summary>Run the command line; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool color, CliHost? host = null)
    {
        host ??= CliHost.None;
        Terminal Term() => new(stdout, color);
        Terminal ErrTerm() => new(stderr, false);
        var root = new RootCommand("KernelSim: a deterministic simulation of the Linux I/O stack below read(2), write(2) and mmap(2) (x86-64, pmem, DAX, machine checks)")
        {
            DemoCommand.Create(Term),
            ProfilesCommand.Create(Term),
            RunCommand.Create(Term, ErrTerm),
            WalkthroughCommand.Create(Term, ErrTerm),
            ExerciseCommand.Create(Term, ErrTerm),
            CampaignCommand.Create(Term, ErrTerm, host),
            ReplayCommand.Create(Term, ErrTerm),
            ShrinkCommand.Create(Term, ErrTerm),
            MergeCommand.Create(Term, ErrTerm),
            CrosscheckCommand.Create(Term, ErrTerm),
        };
        // `kernelsim` alone runs the default walkthrough.
        root.SetAction(_ => DemoCommand.Run(Term()));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.Write($"kernelsim: {e.Message}\n");
            stderr.Write("Run 'kernelsim --help' for usage.\n");
            stderr.Flush();
            return UsageError;
        }
        try
        {
            // ProcessTerminationTimeout null: the commands handle SIGINT/SIGTERM themselves (CliHost).
            var rc = parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
            stdout.Flush();
            return rc;
        }
        catch (Exception e)
        {
            stdout.Flush();
            stderr.Write($"kernelsim: internal error: {e.GetType().Name}: {e.Message}\n");
            stderr.Flush();
            return InternalError;
        }
    }
}
