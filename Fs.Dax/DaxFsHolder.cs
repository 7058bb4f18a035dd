using KernelSim.Dax;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The filesystem's dax_holder_operations (xfs_dax_holder_operations in spirit), registered for
/// <see cref="FailureRoute.NotifyFailure"/> and <see cref="FailureRoute.NotifyFailureNoRmap"/>.
/// </summary>
internal sealed class DaxFsHolder(DaxFs fs) : IDaxHolderOperations
{
    /// <summary>
    /// xfs_dax_notify_failure (fs/xfs/xfs_notify_failure.c, 5.19+): −EIO before the mount is complete;
    /// −EOPNOTSUPP without the reverse map (so memory_failure falls back to mf_generic_kill_procs); otherwise the
    /// device range is turned into filesystem blocks and each block's owner is looked up: free blocks and inodes
    /// not in core are skipped, and for a file each page that has a DAX entry (a fault mapped it) goes to
    /// mf_dax_kill_procs. MF_MEM_PRE_REMOVE (kill_dax) covers every mapped page of every in-core file. Returns 0.
    /// </summary>
    public int NotifyFailure(DaxDevice dev, ulong offset, ulong len, MfFlags flags)
    {
        var m = fs.Machine;
        using var fn = m.Tracer.Fn("daxfs_dax_notify_failure", "fs");
        if (!fs.Mounted) return -Errno.EIO;
        if (fs.Options.FailureRoute == FailureRoute.NotifyFailureNoRmap) return -Errno.EOPNOTSUPP;
        if (len == 0) return 0;
        if ((flags & MfFlags.MF_MEM_PRE_REMOVE) != 0)
        {
            foreach (var ino in fs.InCore)
                foreach (var pfn in ino.DaxEntries.Values.ToArray())
                    m.MemoryFailure.MfDaxKillProcs(pfn, flags);
            return 0;
        }
        var first = (long)(offset >> DaxFsVolume.BlockShift);
        var lastBytes = len == ulong.MaxValue ? ulong.MaxValue : offset + len - 1;
        var last = (long)Math.Min(lastBytes >> DaxFsVolume.BlockShift, (ulong)Math.Max(0, fs.Volume.BlockCount - 1));
        for (var b = first; b <= last; b++)
        {
            var owner = fs.Volume.ReverseMap(b);
            if (owner == null) continue;
            var ino = fs.Ilookup(owner.Value.Node.Ino);
            if (ino == null) continue; // not in core: nothing maps it
            if (ino.DaxEntries.TryGetValue((ulong)owner.Value.FileBlock, out var pfn))
                m.MemoryFailure.MfDaxKillProcs(pfn, flags);
        }
        return 0;
    }
}
