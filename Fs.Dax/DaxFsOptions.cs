namespace KernelSim.Fs.Dax;

/// <summary>The dax= mount option.</summary>
public enum DaxMode
{
    /// <summary>dax=always (-o dax): file data goes straight between pmem and user memory (fs/dax.c).</summary>
    Always,
    /// <summary>dax=never: buffered I/O through the page cache and the block driver; O_DIRECT through bios.</summary>
    Never,
    /// <summary>
    /// dax=inode (5.8+, the kernel's default when no dax option is given): a regular file is DAX when its persistent
    /// FS_XFLAG_DAX is set and the device supports DAX, decided when the inode is loaded (DX1–DX4).
    /// </summary>
    Inode,
}

/// <summary>How memory_failure on one of the filesystem's pmem pages reaches the processes (MF6, MF13).</summary>
public enum FailureRoute
{
    /// <summary>ext4-like: no dax holder operations are registered, so dax_holder_notify_failure says −EOPNOTSUPP and the pagemap falls back to mf_generic_kill_procs.</summary>
    Generic,
    /// <summary>XFS-like with rmapbt: a holder with notify_failure maps the device range back to files (reverse map) and calls mf_dax_kill_procs.</summary>
    NotifyFailure,
    /// <summary>XFS-like without rmapbt: a holder is registered but answers −EOPNOTSUPP, so the generic route runs.</summary>
    NotifyFailureNoRmap,
}

/// <summary>Mount options of <see cref="DaxFs"/>.</summary>
public sealed record DaxFsOptions
{
    /// <summary>Mount point ("/mnt/pmem").</summary>
    public string MountPoint { get; init; } = "/mnt/pmem";

    /// <summary>dax=always, dax=never or dax=inode.</summary>
    public DaxMode Dax { get; init; } = DaxMode.Always;

    /// <summary>The memory-failure route (which filesystem the model imitates).</summary>
    public FailureRoute FailureRoute { get; init; } = FailureRoute.Generic;

    /// <summary>Try 2 MiB PMD mappings on faults (CONFIG_FS_DAX_PMD); off forces 4 KiB PTEs.</summary>
    public bool HugeFaults { get; init; } = true;
}
