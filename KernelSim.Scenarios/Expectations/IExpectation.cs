using YamlDotNet.Core;

namespace KernelSim.Scenarios.Expectations;

/// <summary>One thing a step expects to observe afterwards.</summary>
public interface IExpectation
{
    /// <summary>The expect: key it came from ("ret", "signal", "memory[1]", …).</summary>
    string Key { get; }

    /// <summary>Where it is written.</summary>
    Mark Mark { get; }

    /// <summary>What is expected ("ret = 512").</summary>
    string Describe { get; }

    /// <summary>null when it holds; otherwise "expected …, actual …".</summary>
    string? Check(ExpectationContext context);
}
