using KernelSim.Scenarios.Runtime;

namespace KernelSim.Scenarios;

/// <summary>
/// Runs scenario files from code, e.g. an NUnit test: one call parses the YAML, runs every scenario in it
/// (each YAML document) on its own machine and returns the results, with each expectation's outcome in
/// <see cref="ScenarioResult.Expectations"/>. The same runner as <c>kernelsim run</c>: deterministic, so a test
/// can pin exact values.
/// </summary>
public static class ScenarioFile
{
    /// <summary>Parse and run the scenario file at <paramref name="path"/> (named as given in messages).</summary>
    /// <exception cref="ScenarioException">
    /// The file is missing or unreadable ("path: no such file"), or its YAML is unusable (a syntax error, an
    /// unknown key or step, a bad value): the message is "path:line:column: reason".
    /// </exception>
    public static IReadOnlyList<ScenarioResult> Run(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ScenarioException(path, "no such file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ScenarioException(path, e.Message, e);
        }
        return RunText(text, path);
    }

    /// <summary>Parse and run scenario YAML text; <paramref name="name"/> names it in messages and results.</summary>
    /// <exception cref="ScenarioException">The YAML is unusable: the message is "name:line:column: reason".</exception>
    public static IReadOnlyList<ScenarioResult> RunText(string yaml, string name = "scenario.yaml") =>
        ScenarioParser.ParseText(name, yaml).Select(ScenarioRunner.Run).ToList();
}
