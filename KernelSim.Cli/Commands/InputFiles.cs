using KernelSim.Cli.Rendering;

namespace KernelSim.Cli.Commands;

/// <summary>Reads a file named on the command line, telling a missing file, a directory and an unreadable file apart (exit 66).</summary>
internal static class InputFiles
{
    /// <summary>The file's text; null (with "kernelsim: FILE: reason" on stderr) when it cannot be read.</summary>
    public static string? Read(string path, Terminal err)
    {
        if (Problem(path, out var text) is not { } why) return text;
        err.Line($"kernelsim: {path}: {why}");
        err.Writer.Flush();
        return null;
    }

    /// <summary>Why <paramref name="path"/> cannot be read ("no such file", "is a directory", "permission denied", "cannot be read: …"), or null with its text.</summary>
    public static string? Problem(string path, out string text)
    {
        text = "";
        if (Directory.Exists(path)) return "is a directory";
        if (!File.Exists(path)) return "no such file";
        try
        {
            text = File.ReadAllText(path);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "permission denied";
        }
        catch (IOException e)
        {
            return $"cannot be read: {Reason(e, path)}";
        }
    }

    /// <summary>.NET's message without the path it appends (" : '/path'"), which the caller already names.</summary>
    private static string Reason(IOException e, string path)
    {
        var m = e.Message;
        var suffix = $" : '{Path.GetFullPath(path)}'";
        if (m.EndsWith(suffix, StringComparison.Ordinal)) return m[..^suffix.Length];
        suffix = $" : '{path}'";
        return m.EndsWith(suffix, StringComparison.Ordinal) ? m[..^suffix.Length] : m;
    }
}
