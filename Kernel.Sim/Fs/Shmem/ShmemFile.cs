using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// An open tmpfs file or memfd: shmem_file_operations (mm/shmem.c) — read_iter = shmem_file_read_iter, write_iter =
/// generic_file_write_iter (shmem_file_write_iter from 6.5, the same steps here), mmap = shmem_mmap, fallocate =
/// shmem_fallocate, fsync = noop_fsync, llseek = generic_file_llseek (shmem_file_llseek's SEEK_DATA/HOLE walk is
/// not modelled).
/// </summary>
public sealed class ShmemFile : KFile
{
    internal ShmemFile(ShmemInode inode, int flags) : base(inode, flags)
    {
    }

    /// <summary>The inode.</summary>
    public ShmemInode SInode => (ShmemInode)Inode;

    private Kernel.Machine Machine => Inode.Sb.Machine;

    /// <summary>
    /// shmem_file_read_iter: page by page up to i_size; a hole reads as zeros (no page is allocated); a HWPoison folio
    /// ends the read with −EIO (5.17+, SH3), so a read that starts before it returns the bytes before that page; a short
    /// copy to the user buffer ends it with −EFAULT. Returns the bytes read if any, else the error.
    /// </summary>
    public override long ReadIter(Kiocb iocb, IovIter to)
    {
        var m = Machine;
        using var _ = m.Tracer.Fn("shmem_file_read_iter", "mm");
        var inode = SInode;
        var iov = m.IovIter;
        long retval = 0, error = 0;
        var pos = iocb.Pos;
        while (to.Count != 0)
        {
            var index = (ulong)pos >> PageDefs.PAGE_SHIFT;
            var offset = PageDefs.OffsetInPage((ulong)pos);
            var isize = inode.Size;
            var endIndex = (ulong)isize >> PageDefs.PAGE_SHIFT;
            if (index > endIndex) break;
            if (index == endIndex && PageDefs.OffsetInPage((ulong)isize) <= offset) break;
            var folio = inode.GetFolio(index, create: false); // SGP_READ: a hole allocates nothing
            if (folio != null && m.Profile.ShmemKeepsHwpoisonFolio && inode.IsHwPoison(folio))
            {
                error = -Errno.EIO;
                break;
            }
            var nr = PageDefs.PAGE_SIZE;
            if (index == endIndex) nr = PageDefs.OffsetInPage((ulong)isize);
            nr -= offset;
            var ret = folio != null ? iov.CopyPageToIter(folio.Pfn, offset, nr, to) : iov.IovIterZero(nr, to);
            retval += (long)ret;
            pos += (long)ret;
            if (to.Count == 0) break;
            if (ret < nr)
            {
                error = -Errno.EFAULT;
                break;
            }
        }
        iocb.Pos = pos;
        return retval != 0 ? retval : error;
    }

    /// <summary>generic_file_write_iter (mm/filemap.c) with shmem_write_begin / shmem_write_end (seals, hwpoison).</summary>
    public override long WriteIter(Kiocb iocb, IovIter from) => Machine.Vfs.Filemap.GenericFileWriteIter(iocb, from);

    /// <summary>noop_fsync: 0 (the page cache is the only copy).</summary>
    public override int Fsync(long start, long end, bool datasync) => 0;

    /// <summary>
    /// shmem_mmap: a shared writable mapping of a file sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE → −EPERM
    /// (seal_check_write; mapping_map_writable for F_SEAL_WRITE before 6.7); vm_ops = shmem_vm_ops.
    /// </summary>
    public override int Mmap(Vma vma)
    {
        if ((SInode.Seals & (Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE)) != 0 && vma.Shared && vma.MayWrite) return -Errno.EPERM;
        vma.VmOps = new ShmemVmOps(SInode);
        return 0;
    }

    /// <summary>
    /// shmem_fallocate: modes other than KEEP_SIZE and PUNCH_HOLE → −EOPNOTSUPP. PUNCH_HOLE: F_SEAL_WRITE /
    /// F_SEAL_FUTURE_WRITE → −EPERM; unmap the range, then shmem_truncate_range — whole pages (a poisoned one too,
    /// SH5) leave the cache, partial pages are zeroed. Allocation: F_SEAL_GROW past i_size → −EPERM; the pages are
    /// allocated zeroed (existing ones are kept); i_size grows unless KEEP_SIZE.
    /// </summary>
    public override int Fallocate(int mode, long offset, long len)
    {
        var inode = SInode;
        if ((mode & ~(Fcntl.FALLOC_FL_KEEP_SIZE | Fcntl.FALLOC_FL_PUNCH_HOLE)) != 0) return -Errno.EOPNOTSUPP;
        var end = offset + len;
        if ((mode & Fcntl.FALLOC_FL_PUNCH_HOLE) != 0)
        {
            if ((inode.Seals & (Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE)) != 0) return -Errno.EPERM;
            var unmapStart = (long)PageDefs.PageAlign((ulong)offset);
            var unmapEnd = (long)((ulong)end & PageDefs.PAGE_MASK);
            if (unmapEnd > unmapStart) ((TmpFs)inode.Sb).UnmapMappingRange(inode, unmapStart, unmapEnd - unmapStart);
            inode.Mapping!.TruncateInodePagesRange(offset, end - 1);
            return 0;
        }
        if ((inode.Seals & Memfd.F_SEAL_GROW) != 0 && end > inode.Size) return -Errno.EPERM;
        var first = (ulong)offset >> PageDefs.PAGE_SHIFT;
        var last = ((ulong)end - 1) >> PageDefs.PAGE_SHIFT;
        for (var i = first; i <= last; i++)
        {
            if (inode.GetFolio(i, create: true) == null) return -Errno.ENOMEM;
        }
        if ((mode & Fcntl.FALLOC_FL_KEEP_SIZE) == 0 && end > inode.Size) inode.Size = end;
        return 0;
    }
}
