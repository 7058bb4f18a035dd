using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// msync(2) (mm/msync.c): −EINVAL for unknown flags, an unaligned start or MS_ASYNC with MS_SYNC; −ENOMEM when the
    /// length wraps; 0 for an empty range. Walking the VMAs: no VMA left → −ENOMEM; a gap → −ENOMEM at once for plain
    /// MS_ASYNC, otherwise remembered and returned at the end; MS_SYNC on a shared file mapping calls
    /// vfs_fsync_range(file, fstart, fend, datasync = 1), i.e. the file's -&gt;fsync (for fsdax: dax_writeback_mapping_range
    /// and the metadata commit; −EINVAL for a file without -&gt;fsync), whose error ends the call. MS_ASYNC and
    /// MS_INVALIDATE do nothing else (no VMA is VM_LOCKED here, so MS_INVALIDATE never gives −EBUSY).
    /// </summary>
    public long Msync(ulong start, ulong len, int flags) => Machine.Syscall(this, "sys_msync", () =>
    {
        if ((flags & ~(Mman.MS_ASYNC | Mman.MS_INVALIDATE | Mman.MS_SYNC)) != 0) return -Errno.EINVAL;
        if (!PageDefs.IsPageAligned(start)) return -Errno.EINVAL;
        if ((flags & Mman.MS_ASYNC) != 0 && (flags & Mman.MS_SYNC) != 0) return -Errno.EINVAL;
        len = unchecked((len + PageDefs.PAGE_SIZE - 1) & PageDefs.PAGE_MASK);
        var end = unchecked(start + len);
        if (end < start) return -Errno.ENOMEM;
        if (end == start) return 0;
        var unmappedError = 0L;
        while (true)
        {
            var vma = FindVmaFrom(start);
            if (vma == null) return -Errno.ENOMEM;
            if (start < vma.Start)
            {
                if (flags == Mman.MS_ASYNC) return -Errno.ENOMEM;
                start = vma.Start;
                if (start >= end) return -Errno.ENOMEM;
                unmappedError = -Errno.ENOMEM;
            }
            var fstart = (long)((start - vma.Start) + (vma.PgOff << PageDefs.PAGE_SHIFT));
            var fend = fstart + (long)(Math.Min(end, vma.End) - start) - 1;
            start = vma.End;
            if ((flags & Mman.MS_SYNC) != 0 && vma.File is KFile file && vma.Shared)
            {
                int error;
                using (Machine.Tracer.Fn("vfs_fsync_range", "fs")) error = file.Fsync(fstart, fend, datasync: true);
                if (error != 0 || start >= end) return error != 0 ? error : unmappedError;
            }
            else if (start >= end)
            {
                return unmappedError;
            }
        }
    });

    /// <summary>find_vma: the first VMA ending above <paramref name="addr"/>, or null.</summary>
    private Vma? FindVmaFrom(ulong addr)
    {
        foreach (var v in Mm.Vmas) if (v.End > addr) return v;
        return null;
    }
}
