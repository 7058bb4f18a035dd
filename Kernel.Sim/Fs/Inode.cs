namespace KernelSim.Fs;

/// <summary>
/// struct inode (include/linux/fs.h), reduced to what the read/write paths use: the inode number, the
/// mode, i_size, the owning filesystem and the page cache (i_mapping; null for filesystems without one,
/// e.g. a DAX file).
/// </summary>
public class Inode
{
    /// <summary>Create an inode of <paramref name="sb"/>.</summary>
    public Inode(FileSystem sb, ulong ino, int mode)
    {
        Sb = sb;
        Ino = ino;
        Mode = mode;
    }

    /// <summary>i_sb: the filesystem (super_block) it belongs to.</summary>
    public FileSystem Sb { get; }

    /// <summary>i_ino.</summary>
    public ulong Ino { get; }

    /// <summary>i_mode (S_IFREG | permissions).</summary>
    public int Mode { get; }

    /// <summary>i_size: the file size in bytes (i_size_read / i_size_write).</summary>
    public long Size { get; set; }

    /// <summary>i_nlink: 0 once unlinked.</summary>
    public int Nlink { get; internal set; } = 1;

    /// <summary>clear_nlink (fs/inode.c): the last name is gone; the inode is freed once its last opener closes it.</summary>
    public void ClearNlink() => Nlink = 0;

    /// <summary>i_atime, nanoseconds since the epoch of the machine's clock.</summary>
    public long Atime { get; set; }

    /// <summary>i_mtime (ns).</summary>
    public long Mtime { get; set; }

    /// <summary>i_ctime (ns).</summary>
    public long Ctime { get; set; }

    /// <summary>i_blocks: 512-byte units allocated (0 unless the filesystem keeps it).</summary>
    public virtual long Blocks => 0;

    /// <summary>IS_DAX(inode): S_DAX in i_flags, chosen by the filesystem when the inode is loaded.</summary>
    public virtual bool IsDax => false;

    /// <summary>i_rdev (major, minor) of a device node; (0, 0) otherwise.</summary>
    public virtual (uint Major, uint Minor) Rdev => (0, 0);

    /// <summary>i_mapping: the page cache, when the file has one.</summary>
    public AddressSpace? Mapping
    {
        get => _mapping;
        init
        {
            _mapping = value;
            if (value != null) value.Host = this;
        }
    }

    private readonly AddressSpace? _mapping;

    /// <inheritdoc/>
    public override string ToString() => $"{Sb.Name} inode {Ino} size={Size}";
}
