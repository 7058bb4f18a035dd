namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>Protocol constants (include/uapi/linux/fuse.h, fs/fuse/fuse_i.h, fs/fuse/dax.c).</summary>
public static class FuseConst
{
    /// <summary>FUSE_KERNEL_VERSION.</summary>
    public const uint KernelVersion = 7;
    /// <summary>FUSE_ROOT_ID.</summary>
    public const ulong RootId = 1;
    /// <summary>FUSE_REQ_ID_STEP (fs/fuse/dev.c): request uniques are even and grow by 2.</summary>
    public const ulong ReqIdStep = 2;

    /// <summary>FUSE_ASYNC_READ.</summary>
    public const uint FUSE_ASYNC_READ = 1 << 0;
    /// <summary>FUSE_BIG_WRITES.</summary>
    public const uint FUSE_BIG_WRITES = 1 << 5;
    /// <summary>FUSE_MAX_PAGES.</summary>
    public const uint FUSE_MAX_PAGES = 1 << 22;
    /// <summary>FUSE_MAP_ALIGNMENT: init_out.map_alignment is valid (sent only when the connection has a DAX window).</summary>
    public const uint FUSE_MAP_ALIGNMENT = 1 << 26;
    /// <summary>FUSE_INIT_EXT: flags2 is valid (7.36).</summary>
    public const uint FUSE_INIT_EXT = 1u << 30;
    /// <summary>FUSE_HAS_INODE_DAX (1ULL &lt;&lt; 33): per-inode DAX; lives in flags2 bit 1.</summary>
    public const ulong FUSE_HAS_INODE_DAX = 1UL << 33;

    /// <summary>FUSE_ATTR_DAX in fuse_attr.flags: this file wants DAX (per-inode mode).</summary>
    public const uint FUSE_ATTR_DAX = 1 << 1;

    /// <summary>FATTR_SIZE in fuse_setattr_in.valid.</summary>
    public const uint FATTR_SIZE = 1 << 3;
    /// <summary>FATTR_FH in fuse_setattr_in.valid.</summary>
    public const uint FATTR_FH = 1 << 6;

    /// <summary>FUSE_FSYNC_FDATASYNC.</summary>
    public const uint FUSE_FSYNC_FDATASYNC = 1 << 0;

    /// <summary>FUSE_SETUPMAPPING_FLAG_WRITE.</summary>
    public const ulong FUSE_SETUPMAPPING_FLAG_WRITE = 1 << 0;
    /// <summary>FUSE_SETUPMAPPING_FLAG_READ.</summary>
    public const ulong FUSE_SETUPMAPPING_FLAG_READ = 1 << 1;
    /// <summary>FUSE_REMOVEMAPPING_MAX_ENTRY: PAGE_SIZE / sizeof(struct fuse_removemapping_one).</summary>
    public const int FUSE_REMOVEMAPPING_MAX_ENTRY = 4096 / 16;

    /// <summary>FOPEN_DIRECT_IO.</summary>
    public const uint FOPEN_DIRECT_IO = 1 << 0;
    /// <summary>FOPEN_KEEP_CACHE.</summary>
    public const uint FOPEN_KEEP_CACHE = 1 << 1;

    /// <summary>FUSE_DAX_SHIFT (fs/fuse/dax.c): 2 MiB ranges.</summary>
    public const int FUSE_DAX_SHIFT = 21;
    /// <summary>FUSE_DAX_SZ.</summary>
    public const ulong FUSE_DAX_SZ = 1UL << FUSE_DAX_SHIFT;
    /// <summary>FUSE_DAX_RECLAIM_THRESHOLD: percent of free ranges below which the worker is kicked.</summary>
    public const int FUSE_DAX_RECLAIM_THRESHOLD = 20;
    /// <summary>FUSE_DAX_RECLAIM_CHUNK: ranges the worker frees per pass.</summary>
    public const int FUSE_DAX_RECLAIM_CHUNK = 10;

    /// <summary>sizeof(struct fuse_in_header).</summary>
    public const int InHeaderSize = 40;
    /// <summary>sizeof(struct fuse_out_header).</summary>
    public const int OutHeaderSize = 16;
    /// <summary>sizeof(struct fuse_attr).</summary>
    public const int AttrSize = 88;
    /// <summary>sizeof(struct fuse_entry_out).</summary>
    public const int EntryOutSize = 128;
    /// <summary>sizeof(struct fuse_attr_out).</summary>
    public const int AttrOutSize = 104;
    /// <summary>sizeof(struct fuse_getattr_in).</summary>
    public const int GetattrInSize = 16;
    /// <summary>sizeof(struct fuse_setattr_in).</summary>
    public const int SetattrInSize = 88;
    /// <summary>sizeof(struct fuse_open_in).</summary>
    public const int OpenInSize = 8;
    /// <summary>sizeof(struct fuse_open_out).</summary>
    public const int OpenOutSize = 16;
    /// <summary>sizeof(struct fuse_read_in) = sizeof(struct fuse_write_in).</summary>
    public const int ReadInSize = 40;
    /// <summary>sizeof(struct fuse_write_out).</summary>
    public const int WriteOutSize = 8;
    /// <summary>sizeof(struct fuse_release_in).</summary>
    public const int ReleaseInSize = 24;
    /// <summary>sizeof(struct fuse_flush_in).</summary>
    public const int FlushInSize = 24;
    /// <summary>sizeof(struct fuse_fsync_in).</summary>
    public const int FsyncInSize = 16;
    /// <summary>sizeof(struct fuse_forget_in).</summary>
    public const int ForgetInSize = 8;
    /// <summary>sizeof(struct fuse_setupmapping_in).</summary>
    public const int SetupMappingInSize = 40;
    /// <summary>sizeof(struct fuse_removemapping_in).</summary>
    public const int RemoveMappingInSize = 4;
    /// <summary>sizeof(struct fuse_removemapping_one).</summary>
    public const int RemoveMappingOneSize = 16;
    /// <summary>sizeof(struct fuse_create_in): flags, mode, umask, open_flags (padding before 7.35).</summary>
    public const int CreateInSize = 16;
    /// <summary>sizeof(struct fuse_mknod_in): mode, rdev, umask, padding.</summary>
    public const int MknodInSize = 16;
    /// <summary>sizeof(struct fuse_init_in) since 7.36 (flags2 + unused[11]).</summary>
    public const int InitInSize = 64;
    /// <summary>sizeof(struct fuse_init_out).</summary>
    public const int InitOutSize = 64;
}
