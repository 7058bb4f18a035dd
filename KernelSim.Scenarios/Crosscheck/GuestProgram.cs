namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// A scenario translated for a real Linux guest: the C program that runs its steps, the init script that sets the
/// machine up, the emulated platform, and per step whether it runs in the guest or why it cannot.
/// </summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="CSource">The guest program (C, compiled with -static by the host's gcc).</param>
/// <param name="InitScript">The initramfs /init (busybox sh): mounts, modules, namespace setup, then the program.</param>
/// <param name="Platform">What QEMU has to emulate.</param>
/// <param name="Steps">One plan per scenario step, in order.</param>
public sealed record GuestProgram(string Scenario, string CSource, string InitScript, GuestPlatform Platform, IReadOnlyList<GuestStepPlan> Steps)
{
    /// <summary>True when at least one step runs in the guest (else there is nothing to boot).</summary>
    public bool AnyRunnable => Steps.Any(s => s.CannotRun == null);
}

/// <summary>One step of a translated scenario.</summary>
/// <param name="Index">1-based step number.</param>
/// <param name="Name">The step name ("pread").</param>
/// <param name="Describe">The step as the simulator's report prints it.</param>
/// <param name="CannotRun">Why the step cannot run on the emulated platform; null when the guest runs it.</param>
public sealed record GuestStepPlan(int Index, string Name, string Describe, string? CannotRun);

/// <summary>The emulated machine a guest program needs.</summary>
/// <param name="PmemSize">Bytes of persistent memory (0: none).</param>
/// <param name="E820">Legacy pmem (memmap=SIZE!OFFSET on the kernel command line, the e820 bus) instead of an NVDIMM (ACPI NFIT).</param>
/// <param name="Modules">Kernel modules to load (by name; the runner adds their dependencies).</param>
public sealed record GuestPlatform(ulong PmemSize, bool E820, IReadOnlyList<string> Modules)
{
    /// <summary>Where legacy pmem starts in guest physical memory (inside the 512 MiB of RAM QEMU gives the guest).</summary>
    public const ulong E820Start = 256UL << 20;

    /// <summary>The guest's RAM in MiB.</summary>
    public const int RamMiB = 512;
}
