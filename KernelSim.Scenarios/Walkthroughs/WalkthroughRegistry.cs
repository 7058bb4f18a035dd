namespace KernelSim.Scenarios.Walkthroughs;

/// <summary>The built-in walkthroughs in teaching order; the first is what `kernelsim demo` runs.</summary>
public static class WalkthroughRegistry
{
    public static IReadOnlyList<Walkthrough> All { get; } =
    [
        new("dax-bypass", "The DAX bypass",
            "The same latent poison read through /dev/pmem0 (O_DIRECT: EIO) and through a dax=always mount: on 4.17 the DAX read panics; on 6.12 it is a short read, then EFAULT, then the NFIT notifier's badblocks entry, then EIO; the block device refuses per sector, the DAX path per page.",
            "scenarios/dax-bypass.yaml")
        {
            Compare = new("The bypass: the same 8 KiB of latent poison read two ways",
                5, "The block path: pread of /dev/pmem0 (O_DIRECT) through the pmem driver",
                6, "The DAX path: pread of /mnt/pmem/F (dax=always), fs/dax.c copies itself"),
        },
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
        new("virtiofs-truncate", "virtio-fs DAX and host truncation",
            "A host party truncates a file a guest reads, writes and maps through the virtio-fs DAX window: a livelock (KVM async page faults), a VM stop (the synchronous path, and Vivek Goyal's v4), SIGBUS (his RFC), a short read (the machine-check idea), and the ordinary POSIX results when the guest truncates the file itself.",
            "scenarios/virtiofs-truncate.yaml"),
        new("clearing-poison", "Clearing poison",
            "Block-device writes clear a known bad sector (and with an unaligned clear_err_unit fail: 6.12 writes nothing, 5.18 writes and still says EIO); DAX recovery writes repair only whole pages (EFAULT, a short write, success); whole-page zeroing clears, partial zeroing fails; ndctl clear-errors.",
            "scenarios/clearing-poison.yaml"),
        new("poison-modes", "What a poisoned block means in each namespace mode",
            "One latent line under a 64 MiB namespace in raw, fsdax, devdax and sector mode: EIO at sector 8201 (raw) or 4105 (fsdax, counted from the data area) and a write that clears it; SIGBUS on every touch of /dev/dax0.0, which keeps no badblocks and cannot clear; EIO through the BTT map, then a write that lands on another block while the bad one is cleared.",
            "scenarios/poison-modes.yaml"),
    ];

    /// <summary>The walkthrough `kernelsim demo` (and `kernelsim` alone) runs.</summary>
    public static Walkthrough Demo => All[0];

    public static Walkthrough? Find(string name) => All.FirstOrDefault(w => w.Name == name);
}
