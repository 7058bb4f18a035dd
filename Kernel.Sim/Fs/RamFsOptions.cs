namespace KernelSim.Fs;

/// <summary>Which ->write_end the page-cache filesystem uses (F4).</summary>
public enum WriteEndPolicy
{
    /// <summary>simple_write_end (fs/libfs.c; ramfs): short copies are accepted.</summary>
    Simple,
    /// <summary>block_write_end (fs/buffer.c; ext2/ext4-style): a short copy into a non-uptodate folio counts as 0.</summary>
    Block,
}

/// <summary>Mount options of <see cref="RamFs"/>.</summary>
public sealed record RamFsOptions
{
    /// <summary>Mount point ("/mnt/ramfs").</summary>
    public string MountPoint { get; init; } = "/mnt/ramfs";

    /// <summary>The write_end policy (simple_write_end like real ramfs, or block_write_end like a block filesystem).</summary>
    public WriteEndPolicy WriteEnd { get; init; } = WriteEndPolicy.Simple;

    /// <summary>Set FMODE_NOWAIT on opened files (real ramfs does not, so RWF_NOWAIT gives −EOPNOTSUPP).</summary>
    public bool Nowait { get; init; }
}
