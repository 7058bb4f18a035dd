using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>blk_status_t values (include/linux/blk_types.h, 6.x numbering).</summary>
public enum BlkStatus : byte
{
    /// <summary>BLK_STS_OK: success.</summary>
    BLK_STS_OK = 0,
    /// <summary>BLK_STS_NOTSUPP → -EOPNOTSUPP.</summary>
    BLK_STS_NOTSUPP = 1,
    /// <summary>BLK_STS_TIMEOUT → -ETIMEDOUT.</summary>
    BLK_STS_TIMEOUT = 2,
    /// <summary>BLK_STS_NOSPC → -ENOSPC.</summary>
    BLK_STS_NOSPC = 3,
    /// <summary>BLK_STS_TRANSPORT → -ENOLINK.</summary>
    BLK_STS_TRANSPORT = 4,
    /// <summary>BLK_STS_TARGET → -EREMOTEIO.</summary>
    BLK_STS_TARGET = 5,
    /// <summary>BLK_STS_RESV_CONFLICT (BLK_STS_NEXUS before 6.5) → -EBADE.</summary>
    BLK_STS_RESV_CONFLICT = 6,
    /// <summary>BLK_STS_MEDIUM → -ENODATA.</summary>
    BLK_STS_MEDIUM = 7,
    /// <summary>BLK_STS_PROTECTION → -EILSEQ.</summary>
    BLK_STS_PROTECTION = 8,
    /// <summary>BLK_STS_RESOURCE → -ENOMEM.</summary>
    BLK_STS_RESOURCE = 9,
    /// <summary>BLK_STS_IOERR → -EIO.</summary>
    BLK_STS_IOERR = 10,
    /// <summary>BLK_STS_AGAIN → -EAGAIN.</summary>
    BLK_STS_AGAIN = 12,
    /// <summary>BLK_STS_DEV_RESOURCE → -EBUSY.</summary>
    BLK_STS_DEV_RESOURCE = 13,
    /// <summary>BLK_STS_OFFLINE → -ENODEV.</summary>
    BLK_STS_OFFLINE = 17,
}

/// <summary>The blk_errors[] table of block/blk-core.c: blk_status_to_errno and errno_to_blk_status.</summary>
public static class BlkErrors
{
    /// <summary>blk_status_to_errno (block/blk-core.c): the errno of a status; unknown statuses are -EIO.</summary>
    public static int BlkStatusToErrno(BlkStatus status) => status switch
    {
        BlkStatus.BLK_STS_OK => 0,
        BlkStatus.BLK_STS_NOTSUPP => -Errno.EOPNOTSUPP,
        BlkStatus.BLK_STS_TIMEOUT => -Errno.ETIMEDOUT,
        BlkStatus.BLK_STS_NOSPC => -Errno.ENOSPC,
        BlkStatus.BLK_STS_TRANSPORT => -Errno.ENOLINK,
        BlkStatus.BLK_STS_TARGET => -Errno.EREMOTEIO,
        BlkStatus.BLK_STS_RESV_CONFLICT => -Errno.EBADE,
        BlkStatus.BLK_STS_MEDIUM => -Errno.ENODATA,
        BlkStatus.BLK_STS_PROTECTION => -Errno.EILSEQ,
        BlkStatus.BLK_STS_RESOURCE => -Errno.ENOMEM,
        BlkStatus.BLK_STS_AGAIN => -Errno.EAGAIN,
        BlkStatus.BLK_STS_DEV_RESOURCE => -Errno.EBUSY,
        BlkStatus.BLK_STS_OFFLINE => -Errno.ENODEV,
        _ => -Errno.EIO,
    };

    /// <summary>errno_to_blk_status (block/blk-core.c): 0 → OK; an errno in the table → its status; anything else → BLK_STS_IOERR.</summary>
    public static BlkStatus ErrnoToBlkStatus(int errno)
    {
        if (errno == 0) return BlkStatus.BLK_STS_OK;
        foreach (var s in Enum.GetValues<BlkStatus>())
        {
            if (s != BlkStatus.BLK_STS_OK && BlkStatusToErrno(s) == errno) return s;
        }
        return BlkStatus.BLK_STS_IOERR;
    }
}
