namespace KernelSim.Cli.Walkthroughs;

/// <summary>The built-in walkthroughs in teaching order (those the current layers support).</summary>
internal static class WalkthroughRegistry
{
    public static IReadOnlyList<Walkthrough> All { get; } =
    [
        new("mce-copy", "A machine-check-safe copy",
            "Poison in a kernel buffer: copy_mc_to_user returns a short count instead of crashing, the same copy panics on a CPU without recovery, and user space gets SIGBUS BUS_MCEERR_AR when it touches poison itself.",
            "scenarios/mce-copy.yaml"),
        new("user-sigbus", "What a machine check costs user space",
            "A load from an mmap'd page with a poisoned line: SIGBUS BUS_MCEERR_AR with a page-aligned address, a second touch that faults on the hwpoison entry with the exact address, and the early kill (BUS_MCEERR_AO) of a second process sharing the page.",
            "scenarios/user-sigbus.yaml"),
        new("copyin-years", "Copy-in poison through the years",
            "The same write(2) to a ramfs file from a user buffer with a poisoned line on 4.17 (panic), 5.10 (the whole page \"written\", SIGBUS), 5.15 (short write and SIGBUS) and 5.16+ (short write, no signal, the page offlined).",
            "scenarios/copyin-years.yaml"),
        new("fault-in-livelock", "fault_in and the livelock of the 2021 thread",
            "A sub-page-protected or poisoned user buffer with a progress-based caller (generic_perform_write: short write) and an all-or-nothing caller (restore_fpregs_from_user: livelock on the sub-page hole; on poison only in its what-if form).",
            "scenarios/fault-in-livelock.yaml"),
    ];

    public static Walkthrough? Find(string name) => All.FirstOrDefault(w => w.Name == name);
}
