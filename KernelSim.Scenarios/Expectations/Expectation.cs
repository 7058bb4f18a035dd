using YamlDotNet.Core;

namespace KernelSim.Scenarios.Expectations;

/// <summary>An expectation given by a check function (the parser builds one per expect: entry).</summary>
internal sealed class Expectation(string key, Mark mark, string describe, Func<ExpectationContext, string?> check) : IExpectation
{
    public string Key => key;
    public Mark Mark => mark;
    public string Describe => describe;
    public string? Check(ExpectationContext context) => check(context);
}
