using System.CommandLine;
using KernelSim.Cli.Commands;
using KernelSim.Cli.Rendering;

namespace KernelSim.Cli;

/// <summary>
/// The `kernelsim` command line: parses, reports bad arguments on stderr with exit code 2 (never a stack
/// trace), and runs the chosen command against the given writers so tests can capture everything. Exit codes:
/// <see cref="ExitCodes"/>.
/// </summary>
internal static class CliApp
{
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
            return ExitCodes.Usage;
        }
        foreach (var note in CommonOptions.PointReleaseNotes(parse)) stderr.Write($"kernelsim: {note}\n");
        try
        {
            // ProcessTerminationTimeout null: the commands handle SIGINT/SIGTERM themselves (CliHost).
            var rc = parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
            stdout.Flush();
            return rc;
        }
        catch (IOException e)
        {
            // Writing the output failed (disk full, a closed pipe): not a simulator bug.
            TryWrite(stderr, $"kernelsim: I/O error: {e.Message}\n");
            return ExitCodes.IoError;
        }
        catch (Exception e)
        {
            TryFlush(stdout);
            TryWrite(stderr, $"kernelsim: internal error: {e.GetType().Name}: {e.Message}\n");
            return ExitCodes.Software;
        }
    }

    private static void TryFlush(TextWriter w) => TryWrite(w, "");

    private static void TryWrite(TextWriter w, string line)
    {
        try
        {
            w.Write(line);
            w.Flush();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The writer is broken too: the exit code is all that is left.
        }
    }
}
