namespace KernelSim.Profiles;

/// <summary>Documents one behaviour switch of a <see cref="KernelProfile"/>: the releases it holds for and why.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class KernelSwitchAttribute(string releases, string description) : Attribute
{
    /// <summary>Releases for which the switch is on (or the value it takes per era).</summary>
    public string Releases { get; } = releases;
    /// <summary>What changes, with the kernel function it lives in.</summary>
    public string Description { get; } = description;
}
