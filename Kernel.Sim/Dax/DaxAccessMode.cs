namespace KernelSim.Dax;

/// <summary>enum dax_access_mode (include/linux/dax.h, 5.19+).</summary>
public enum DaxAccessMode
{
    /// <summary>DAX_ACCESS: a normal mapping request.</summary>
    DAX_ACCESS,
    /// <summary>DAX_RECOVERY_WRITE: the caller will write over poison with dax_recovery_write.</summary>
    DAX_RECOVERY_WRITE,
}

/// <summary>dax_device flags (drivers/dax/super.c).</summary>
[Flags]
public enum DaxDevFlags
{
    None = 0,
    /// <summary>DAXDEV_ALIVE: the device has not been killed.</summary>
    DAXDEV_ALIVE = 1,
    /// <summary>DAXDEV_WRITE_CACHE.</summary>
    DAXDEV_WRITE_CACHE = 2,
    /// <summary>DAXDEV_SYNC: MAP_SYNC is supported.</summary>
    DAXDEV_SYNC = 4,
    /// <summary>DAXDEV_NOCACHE: dax_copy_from_iter uses _copy_from_iter_flushcache.</summary>
    DAXDEV_NOCACHE = 8,
    /// <summary>DAXDEV_NOMC: dax_copy_to_iter uses _copy_mc_to_iter.</summary>
    DAXDEV_NOMC = 16,
}
