using KernelSim.Scenarios;

namespace KernelSimTests;

/// <summary>A scenario as a YAML file (scenarios/short-copy.yaml), run from a test.</summary>
public class ScenarioFileTests
{
    [Test]
    public void ShortCopyScenario_EveryExpectationHolds()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "scenarios", "short-copy.yaml");

        var results = ScenarioFile.Run(path);

        Assert.That(results.Select(r => r.Scenario.Name), Is.EqualTo(new[] { "short-copy" }));
        Assert.That(results[0].Expectations.Where(e => !e.Passed).Select(e => e.ToString()), Is.Empty);
        Assert.That(results[0].Expectations.Select(e => (e.Step, e.Expected)), Is.EqualTo(new[]
        {
            (3, "ret = 3200"),
            (3, "memory [buf, +4992) is the fill of src"),
            (3, "memory [buf+4992, +3200) is untouched (its own fill)"),
            (3, "machine checks: 1 new, context IN_KERNEL_RECOV, severity AR"),
            (3, "no signal"),
        }));
    }
}
