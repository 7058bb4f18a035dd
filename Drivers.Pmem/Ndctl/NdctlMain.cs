using System.Text;
using KernelSim.Kernel;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// ndctl/ndctl.c main and util/main.c: global options, the command table, run_builtin's exit status
/// (<c>status &amp; 0xff</c>, so −ENXIO exits 250). Commands ndctl has but the simulator does not model are absent from
/// the table and answer as ndctl answers any unknown command ("Unknown command: 'x'", exit 1).
/// </summary>
internal static class NdctlMain
{
    /// <summary>VERSION of the modelled release.</summary>
    public const string Version = "81";

    private const string UsageString = "ndctl [--version] [--help] COMMAND [ARGS]";
    private const string MoreInfo = "See 'ndctl help COMMAND' for more information on a specific command.\n ndctl --list-cmds to see all available commands";

    private static readonly (string Name, Func<NdctlIo, string[], int> Fn)[] Commands =
    [
        ("version", (io, _) => { io.Out.Append(Version).Append('\n'); return 0; }),
        ("enable-namespace", NamespaceCmds.Enable),
        ("disable-namespace", NamespaceCmds.Disable),
        ("create-namespace", NamespaceCmds.Create),
        ("destroy-namespace", NamespaceCmds.Destroy),
        ("clear-errors", NamespaceCmds.ClearErrors),
        ("enable-region", RegionCmds.Enable),
        ("disable-region", RegionCmds.Disable),
        ("inject-error", InjectErrorCmd.Run),
        ("inject-smart", InjectSmartCmd.Run),
        ("wait-scrub", BusCmds.WaitScrub),
        ("start-scrub", BusCmds.StartScrub),
        ("list", ListCmd.Run),
        ("help", Help),
    ];

    /// <summary>The command names, as --list-cmds prints them.</summary>
    public static IEnumerable<string> CommandNames => Commands.Select(c => c.Name);

    /// <summary>Run one command line in <paramref name="p"/>; never throws for bad input.</summary>
    public static NdctlResult Run(Process p, string commandLine)
    {
        var io = new NdctlIo(p);
        int status;
        try
        {
            status = Main(io, Split(commandLine));
        }
        catch (NdctlExit e)
        {
            status = e.Status;
        }
        finally
        {
            io.Release();
        }
        var result = new NdctlResult(status, io.Out.ToString(), io.Err.ToString());
        io.RecycleOutput();
        return result;
    }

    private static int Main(NdctlIo io, List<string> args)
    {
        if (args.Count > 0 && args[0] == "ndctl") args.RemoveAt(0);
        // main_handle_options
        while (args.Count > 0 && args[0].StartsWith('-'))
        {
            var cmd = args[0];
            if (cmd is "--version" or "--help") break;
            if (cmd == "-h")
            {
                args[0] = "--help";
                break;
            }
            if (cmd == "-v")
            {
                args[0] = "--version";
                break;
            }
            if (cmd == "--list-cmds")
            {
                foreach (var n in CommandNames) io.Out.Append(n).Append('\n');
                return 0;
            }
            io.Err.Append("Unknown option: ").Append(cmd).Append('\n');
            io.Err.Append("\n Usage: ").Append(UsageString).Append('\n');
            return 129;
        }
        if (args.Count == 0)
        {
            io.Out.Append("\n usage: ").Append(UsageString).Append("\n\n");
            io.Out.Append("\n ").Append(MoreInfo).Append("\n\n");
            return 1;
        }
        if (args[0].StartsWith("--", StringComparison.Ordinal)) args[0] = args[0][2..];
        // main_handle_internal_command: "cmd --help" becomes "help cmd".
        if (args.Count > 1 && args[1] == "--help")
        {
            args[1] = args[0];
            args[0] = "help";
        }
        foreach (var (name, fn) in Commands)
        {
            if (name != args[0]) continue;
            var status = fn(io, [.. args]);
            return status & 0xff;
        }
        io.Err.Append("Unknown command: '").Append(args[0]).Append("'\n");
        return 1;
    }

    /// <summary>
    /// cmd_help: without a command, the usage on stdout and 0. "help CMD" opens ndctl-CMD's man page, which the
    /// simulator does not have: it prints CMD's option summary (as "CMD -h" does) and exits 129.
    /// </summary>
    private static int Help(NdctlIo io, string[] argv)
    {
        if (argv.Length < 2)
        {
            io.Out.Append("\n usage: ").Append(UsageString).Append("\n\n");
            io.Out.Append("\n ").Append(MoreInfo).Append("\n\n");
            return 0;
        }
        foreach (var (name, fn) in Commands)
            if (name == argv[1] && name != "help" && name != "version") return fn(io, [name, "-h"]);
        io.Err.Append("No manual entry for ndctl-").Append(argv[1]).Append('\n');
        return 1;
    }

    /// <summary>Split a command line into words (blanks separate; single and double quotes group).</summary>
    internal static List<string> Split(string? line)
    {
        var words = new List<string>();
        var cur = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        foreach (var c in line ?? "")
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else cur.Append(c);
                continue;
            }
            if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(cur.ToString());
                cur.Clear();
                inWord = false;
                continue;
            }
            cur.Append(c);
            inWord = true;
        }
        if (inWord) words.Add(cur.ToString());
        return words;
    }

    /// <summary>strerror(-rc).</summary>
    internal static string StrErr(int rc) => NdctlIo.StrError(Math.Abs(rc));
}
