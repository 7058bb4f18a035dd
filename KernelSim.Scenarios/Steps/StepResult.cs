using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>What a step returned.</summary>
/// <param name="Ret">The return value (a byte count, an address, −errno, bytes not copied…); null when it did not return.</param>
/// <param name="Outcome">"panic: …", "livelock: …", "oops: …", "shutdown: …" when the kernel did not come back; else null.</param>
/// <param name="Signal">The signal that ended a user-mode access, if any.</param>
/// <param name="Text">The result as printed ("= 512", "= -EFAULT (-14)", "SIGBUS BUS_MCEERR_AR …").</param>
public sealed record StepResult(long? Ret, string? Outcome, SigInfo? Signal, string Text)
{
    /// <summary>Output lines of the step (ndctl's stdout, a badblocks listing), shown with what changed.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>What a file step read (a file's text, a directory listing one name a line, a link target); the text: expectation checks it.</summary>
    public string? Content { get; init; }

    /// <summary>The 64-bit word a pagemap or kpageflags step read; the pagemap: and kpageflags: expectations decode it.</summary>
    public ulong? Word { get; init; }

    /// <summary>A program's standard output as it printed it (ndctl's JSON), for the json expectation; null for other steps.</summary>
    public string? Stdout { get; init; }

    /// <summary>A value that returned, printed as "= value" (errno-aware).</summary>
    public static StepResult Returned(long ret) => new(ret, null, null, "= " + Errno.Describe(ret));

    /// <summary>A value printed in hex ("= 0x7ffff7ffd000" for an address; errno-aware).</summary>
    public static StepResult Address(long ret) => new(ret, null, null, ret < 0 ? "= " + Errno.Describe(ret) : $"= 0x{ret:x}");

    /// <summary>The kernel did not come back.</summary>
    public static StepResult NoReturn(string outcome) => new(null, outcome, null, "did not return: " + outcome);

    /// <summary>The step could not run (a name that has no address because its mmap failed, …).</summary>
    public static StepResult Error(string why) => new(null, "error: " + why, null, "error: " + why);
}
