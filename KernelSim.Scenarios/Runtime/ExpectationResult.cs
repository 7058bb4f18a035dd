namespace KernelSim.Scenarios.Runtime;

/// <summary>
/// One checked expectation of a scenario run, for a test to assert on: where it is written, which step it
/// belongs to, what it expects and whether it held.
/// </summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="Step">The step's 1-based index.</param>
/// <param name="StepText">What the step did ("reader: copy_mc_to_user(buf, src, 8192)").</param>
/// <param name="Key">The <c>expect:</c> key ("ret", "memory[1]", "signal").</param>
/// <param name="Expected">What is expected, as the report prints it ("ret = 3200").</param>
/// <param name="Passed">True when the expectation held.</param>
/// <param name="Failure">Why it did not hold ("expected 8192, actual 3200"); null when it held.</param>
/// <param name="Location">Where the expectation is written: "file:line:column".</param>
public sealed record ExpectationResult(string Scenario, int Step, string StepText, string Key, string Expected, bool Passed, string? Failure, string Location)
{
    private const string ExpectedPrefix = "expected ", ActualSeparator = ", actual ";

    /// <summary>
    /// What was observed when the expectation failed: the part after "actual" of <see cref="Failure"/>
    /// ("3200" for "expected 8192, actual 3200"), or the whole failure when it is not of that form; null when it held.
    /// </summary>
    public string? Actual
    {
        get
        {
            if (Failure == null) return null;
            var at = Failure.IndexOf(ActualSeparator, StringComparison.Ordinal);
            return Failure.StartsWith(ExpectedPrefix, StringComparison.Ordinal) && at >= 0 ? Failure[(at + ActualSeparator.Length)..] : Failure;
        }
    }

    /// <summary>"file:line:column: step N (text): expected: ok" or "…: FAIL failure", for assertion messages.</summary>
    public override string ToString() => $"{Location}: step {Step} ({StepText}): {Expected}: {(Passed ? "ok" : "FAIL " + Failure)}";
}
