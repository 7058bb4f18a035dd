namespace KernelSim.Mm;

/// <summary>
/// The memory media as the CPU's loads see it: which 64-byte lines hold an uncorrectable error. A load that
/// consumes such a line raises a machine check (the SRAR data-load error of arch/x86/kernel/cpu/mce), so
/// <see cref="Arch.X86.Cpu"/> asks this seam on every probe. <see cref="PhysicalMemory"/> implements it; replace it
/// in <see cref="Kernel.MachineBuilder.Services"/> to decide where loads fault.
/// </summary>
public interface IMemoryMedia
{
    /// <summary>Number of frames holding any poisoned line (0 lets callers skip per-line checks).</summary>
    int PoisonedFrameCount { get; }

    /// <summary>
    /// Offset (from <paramref name="offsetInPage"/>) of the first byte of the first poisoned line that a load of
    /// [offsetInPage, offsetInPage+len) in frame <paramref name="pfn"/> touches, or -1. A load starting inside a
    /// poisoned line faults at its own first byte (offset 0). Called on the copy hot path: must not allocate.
    /// </summary>
    int FirstPoisonInFrame(ulong pfn, int offsetInPage, int len);

    /// <summary>True if the line containing <paramref name="pa"/> is poisoned.</summary>
    bool IsPoisoned(PhysAddr pa);

    /// <summary>Make the line containing <paramref name="pa"/> hold latent poison; 0, or -EINVAL outside any range.</summary>
    int InjectPoison(PhysAddr pa);

    /// <summary>Clear poison from every line overlapping [pa, pa+len); the number of lines cleared.</summary>
    int ClearPoison(PhysAddr pa, ulong len);

    /// <summary>Every poisoned line's physical address, in order.</summary>
    IEnumerable<PhysAddr> PoisonedLines();

    /// <summary>
    /// The frame whose bytes a load from frame <paramref name="pfn"/> returns: <paramref name="pfn"/> itself for
    /// sound media. A double can answer another frame (an older copy: media that lost a write). The CPU asks only
    /// when the machine's media is not its <see cref="PhysicalMemory"/>, so sound machines pay nothing for it.
    /// </summary>
    ulong LoadFrame(ulong pfn) => pfn;
}
