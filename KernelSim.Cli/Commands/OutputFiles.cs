using KernelSim.Cli.Rendering;

namespace KernelSim.Cli.Commands;

/// <summary>Writes a file named on the command line; a failure is exit 73 (sysexits EX_CANTCREAT) with the reason on stderr.</summary>
internal static class OutputFiles
{
    /// <summary>Write <paramref name="text"/> to <paramref name="path"/>; null on success, else the exit code (73) after "kernelsim: FILE: reason" on stderr.</summary>
    public static int? Write(string path, string text, Terminal err)
    {
        string reason;
        if (Directory.Exists(path))
        {
            reason = "is a directory";
        }
        else
        {
            try
            {
                File.WriteAllText(path, text);
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                reason = e.Message;
            }
        }
        err.Line($"kernelsim: {path}: {reason}");
        err.Writer.Flush();
        return ExitCodes.CannotCreate;
    }
}
