using YamlDotNet.Core;

namespace KernelSim.Scenarios;

/// <summary>
/// Unusable scenario input (exit code 2): a YAML syntax error, an unknown key or step, a bad value or a name
/// that does not resolve. <see cref="Exception.Message"/> is "file:line:column: reason".
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

    public ScenarioException(string file, Mark mark, string reason) : this(file, (int)mark.Line, (int)mark.Column, reason)
    {
    }

    /// <summary>The scenario file as given on the command line (or the walkthrough resource name).</summary>
    public string File { get; }

    /// <summary>1-based line.</summary>
    public int Line { get; }

    /// <summary>1-based column.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}
