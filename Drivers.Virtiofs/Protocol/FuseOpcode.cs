namespace KernelSim.Drivers.Virtiofs.Protocol;

/// <summary>enum fuse_opcode (include/uapi/linux/fuse.h), the values the model uses.</summary>
public enum FuseOpcode : uint
{
    /// <summary>FUSE_LOOKUP.</summary>
    LOOKUP = 1,
    /// <summary>FUSE_FORGET (no reply; hiprio queue on virtio-fs).</summary>
    FORGET = 2,
    /// <summary>FUSE_GETATTR.</summary>
    GETATTR = 3,
    /// <summary>FUSE_SETATTR.</summary>
    SETATTR = 4,
    /// <summary>FUSE_OPEN.</summary>
    OPEN = 14,
    /// <summary>FUSE_READ.</summary>
    READ = 15,
    /// <summary>FUSE_WRITE.</summary>
    WRITE = 16,
    /// <summary>FUSE_STATFS.</summary>
    STATFS = 17,
    /// <summary>FUSE_RELEASE.</summary>
    RELEASE = 18,
    /// <summary>FUSE_FSYNC.</summary>
    FSYNC = 20,
    /// <summary>FUSE_FLUSH.</summary>
    FLUSH = 25,
    /// <summary>FUSE_INIT.</summary>
    INIT = 26,
    /// <summary>FUSE_DESTROY.</summary>
    DESTROY = 38,
    /// <summary>FUSE_BATCH_FORGET.</summary>
    BATCH_FORGET = 42,
    /// <summary>FUSE_FALLOCATE.</summary>
    FALLOCATE = 43,
    /// <summary>FUSE_LSEEK.</summary>
    LSEEK = 46,
    /// <summary>FUSE_COPY_FILE_RANGE.</summary>
    COPY_FILE_RANGE = 47,
    /// <summary>FUSE_SETUPMAPPING: map a file range into the DAX window.</summary>
    SETUPMAPPING = 48,
    /// <summary>FUSE_REMOVEMAPPING: unmap window ranges.</summary>
    REMOVEMAPPING = 49,
    /// <summary>FUSE_SYNCFS.</summary>
    SYNCFS = 50,
    /// <summary>FUSE_TMPFILE.</summary>
    TMPFILE = 51,
    /// <summary>FUSE_STATX.</summary>
    STATX = 52,
}
