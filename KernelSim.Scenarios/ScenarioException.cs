using YamlDotNet.Core;

namespace KernelSim.Scenarios;

/// <summary>
/// Unusable scenario input (exit code 2): a YAML syntax error, an unknown key or step, a bad value or a name
/// that does not resolve. <see cref="Exception.Message"/> is "file:line:column: reason", or "file: reason" when the
/// file itself cannot be read (<see cref="Line"/> and <see cref="Column"/> are then 0).
/// </summary>
public sealed class ScenarioException : Exception
{
    public ScenarioException(string file, int line, int column, string reason)
        : base($"{file}:{line}:{column}: {reason}")
    {
        File = file;
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>The file itself is unusable (missing, unreadable): no line.</summary>
    public ScenarioException(string file, string reason, Exception? inner = null)
        : base($"{file}: {reason}", inner)
    {
        File = file;
        Reason = reason;
    }

    public ScenarioException(string file, Mark mark, string reason) : this(file, (int)mark.Line, (int)mark.Column, reason)
    {
    }

    /// <summary>The scenario file as given on the command line (or the walkthrough resource name).</summary>
    public string File { get; }

    /// <summary>1-based line (0: the file itself).</summary>
    public int Line { get; }

    /// <summary>1-based column (0: the file itself).</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}
