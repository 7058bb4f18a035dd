namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>enum fuse_opcode (include/uapi/linux/fuse.h), the values the model uses.</summary>
public enum FuseOpcode : uint
{
    /// <summary>FUSE_LOOKUP.</summary>
    FUSE_LOOKUP = 1,
    /// <summary>FUSE_FORGET (no reply; hiprio queue on virtio-fs).</summary>
    FUSE_FORGET = 2,
    /// <summary>FUSE_GETATTR.</summary>
    FUSE_GETATTR = 3,
    /// <summary>FUSE_SETATTR.</summary>
    FUSE_SETATTR = 4,
    /// <summary>FUSE_MKNOD: create a node (fuse_mknod; fuse_atomic_open's fallback when the server lacks CREATE).</summary>
    FUSE_MKNOD = 8,
    /// <summary>FUSE_UNLINK: remove a name (fuse_unlink).</summary>
    FUSE_UNLINK = 10,
    /// <summary>FUSE_OPEN.</summary>
    FUSE_OPEN = 14,
    /// <summary>FUSE_READ.</summary>
    FUSE_READ = 15,
    /// <summary>FUSE_WRITE.</summary>
    FUSE_WRITE = 16,
    /// <summary>FUSE_STATFS.</summary>
    FUSE_STATFS = 17,
    /// <summary>FUSE_RELEASE.</summary>
    FUSE_RELEASE = 18,
    /// <summary>FUSE_FSYNC.</summary>
    FUSE_FSYNC = 20,
    /// <summary>FUSE_FLUSH.</summary>
    FUSE_FLUSH = 25,
    /// <summary>FUSE_INIT.</summary>
    FUSE_INIT = 26,
    /// <summary>FUSE_CREATE: create and open a regular file (fuse_create_open).</summary>
    FUSE_CREATE = 35,
    /// <summary>FUSE_DESTROY.</summary>
    FUSE_DESTROY = 38,
    /// <summary>FUSE_BATCH_FORGET.</summary>
    FUSE_BATCH_FORGET = 42,
    /// <summary>FUSE_FALLOCATE.</summary>
    FUSE_FALLOCATE = 43,
    /// <summary>FUSE_LSEEK.</summary>
    FUSE_LSEEK = 46,
    /// <summary>FUSE_COPY_FILE_RANGE.</summary>
    FUSE_COPY_FILE_RANGE = 47,
    /// <summary>FUSE_SETUPMAPPING: map a file range into the DAX window.</summary>
    FUSE_SETUPMAPPING = 48,
    /// <summary>FUSE_REMOVEMAPPING: unmap window ranges.</summary>
    FUSE_REMOVEMAPPING = 49,
    /// <summary>FUSE_SYNCFS.</summary>
    FUSE_SYNCFS = 50,
    /// <summary>FUSE_TMPFILE.</summary>
    FUSE_TMPFILE = 51,
    /// <summary>FUSE_STATX.</summary>
    FUSE_STATX = 52,
}
