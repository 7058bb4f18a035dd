using KernelSim.Dax;
using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// The DAX I/O paths of a virtio-fs inode: fuse_dax_read_iter / fuse_dax_write_iter (fs/fuse/dax.c) over
/// dax_iomap_rw / dax_iomap_iter (fs/dax.c, 5.15+ iomap_iter form), and the DAX fault (__fuse_dax_fault over
/// dax_iomap_fault). Reads and writes use Fs.Dax's dax_iomap_rw with <see cref="FuseIomapOps"/>; the fault path
/// is rendered here because of its −EAGAIN wait-and-retry.
/// </summary>
public sealed class FuseDaxIo
{
    private readonly FsDax _fsDax;

    internal FuseDaxIo(Machine machine, FuseConnDax dax, FsDax fsDax)
    {
        Machine = machine;
        _fsDax = fsDax;
        Dax = dax;
        Ops = new FuseIomapOps(dax);
    }

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>The range pool.</summary>
    public FuseConnDax Dax { get; }

    /// <summary>fuse_iomap_ops.</summary>
    public FuseIomapOps Ops { get; }

    /// <summary>fuse_dax_read_iter: inode lock shared (IOCB_NOWAIT → trylock), dax_iomap_rw. No attribute revalidation.</summary>
    public long ReadIter(Kiocb iocb, IovIter to)
    {
        using var _ = Machine.Tracer.Fn("fuse_dax_read_iter", "fuse");
        return DaxIomapRw(iocb, to);
    }

    /// <summary>
    /// fuse_dax_write_iter: generic_write_checks; an extending write (pos ≥ i_size or pos+count &gt; i_size, with the
    /// cached i_size) goes whole through FUSE_WRITE (fuse_dax_direct_write), otherwise dax_iomap_rw with IOMAP_WRITE;
    /// then generic_write_sync.
    /// </summary>
    public long WriteIter(FuseFile file, Kiocb iocb, IovIter from)
    {
        using var _ = Machine.Tracer.Fn("fuse_dax_write_iter", "fuse");
        var inode = (FuseInode)file.Inode;
        var ret = Machine.Vfs.Filemap.GenericWriteChecks(iocb, from);
        if (ret <= 0) return ret;
        if (iocb.Pos >= inode.Size || iocb.Pos + (long)from.Count > inode.Size)
            ret = inode.Fs.DirectIo.Write(file, iocb, from);
        else
            ret = DaxIomapRw(iocb, from);
        if (ret > 0) ret = file.GenericWriteSync(iocb, ret);
        return ret;
    }

    /// <summary>
    /// dax_iomap_rw with fuse_iomap_ops (Fs.Dax <see cref="FsDax.DaxIomapRw"/>): 0 at once for a zero-length
    /// request (R12, "fsdax: Fix infinite loop in dax_iomap_rw()"); on the releases without it (5.15–5.19,
    /// <see cref="Profiles.KernelProfile.DaxIomapRwZeroLengthLoops"/>) a zero-length iteration WARNs and loops forever.
    /// </summary>
    internal long DaxIomapRw(Kiocb iocb, IovIter iter)
    {
        if (iter.Count == 0)
        {
            if (!Machine.Profile.DaxIomapRwZeroLengthLoops) return 0;
            Machine.State.Printk("WARNING: CPU: 0 PID: 0 at fs/iomap/iter.c iomap_iter+0x... (iomap_iter_done: iomap length 0)");
            var guard = new RetryGuard("dax_iomap_rw (zero-length iomap_iter)");
            while (true) guard.Pass(progressed: false);
        }
        return _fsDax.DaxIomapRw(iocb, iter, Ops);
    }

    /// <summary>
    /// fuse_dax_huge_fault(PMD_ORDER) → __fuse_dax_fault → dax_iomap_pmd_fault with fuse_iomap_ops (Fs.Dax
    /// <see cref="FsDax.DaxIomapPmdFault"/>): VM_FAULT_FALLBACK unless the 2 MiB-aligned virtual range lies in the VMA
    /// with the file offset's PMD colour, the file (cached i_size) covers it, no 4 KiB entry is in it and the write is
    /// not a private copy; then iomap_begin for the whole 2 MiB range — a file range maps one window range, so a
    /// SETUPMAPPING (READ, or READ|WRITE for a write, upgrading a read-only one) covers it exactly — and the PMD maps
    /// the range's 512 window pages (VF17). dax_iomap_pmd_fault reports no iomap error, so −EAGAIN (no free range)
    /// is a fallback too, and the 4 KiB fault that follows waits for a range (VF18).
    /// </summary>
    internal VmFault HugeFault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn)
    {
        using var fn = Machine.Tracer.Fn("fuse_dax_huge_fault", "fuse");
        return _fsDax.DaxIomapPmdFault(mm, vma, address, write, Ops, out pfn);
    }

    /// <summary>
    /// __fuse_dax_fault + dax_iomap_pte_fault: a page at or past i_size → VM_FAULT_SIGBUS (no host involvement);
    /// iomap_begin with IOMAP_FAULT (IOMAP_WRITE for a shared write: a read-only range is re-set-up READ|WRITE on the
    /// same moffset, VF19; not for a private copy, whose range stays read-only); −EAGAIN when no range is free: wait
    /// uninterruptibly for one and retry the whole fault; other errors → SIGBUS (−ENOMEM → OOM). Maps one 4 KiB page
    /// of the window, or for <paramref name="cow"/> (a write to a MAP_PRIVATE mapping, do_cow_fault's vmf-&gt;cow_page)
    /// copies it into a new anonymous page with copy_user_page (dax_fault_cow_page, VF20).
    /// </summary>
    internal VmFault Fault(FuseInode inode, long pos, bool write, bool cow, out ulong pfn)
    {
        using var fn = Machine.Tracer.Fn("fuse_dax_fault", "fuse");
        pfn = 0;
        var retry = false;
        var guard = new RetryGuard("__fuse_dax_fault");
        while (true)
        {
            if (retry && Dax.NrFreeRanges == 0) Dax.WaitForFreeRange("__fuse_dax_fault");
            if (pos >= inode.Size) return VmFault.VM_FAULT_SIGBUS;
            var iomap = new Iomap();
            var flags = IomapOpFlags.IOMAP_FAULT | IomapOpFlags.IOMAP_DAX | (write && !cow ? IomapOpFlags.IOMAP_WRITE : IomapOpFlags.None);
            var err = Ops.IomapBegin(inode, pos, (long)PageDefs.PAGE_SIZE, flags, iomap);
            if (err == -Errno.EAGAIN)
            {
                retry = true;
                guard.Pass(progressed: false);
                continue;
            }
            if (err < 0) return err == -Errno.ENOMEM ? VmFault.VM_FAULT_OOM : VmFault.VM_FAULT_SIGBUS;
            try
            {
                if (iomap.Type != IomapType.IOMAP_MAPPED) return VmFault.VM_FAULT_SIGBUS;
                var r = Dax.Dev.DirectAccess(iomap.PgOff(pos), 1, DaxAccessMode.DAX_ACCESS, out var kaddr, out pfn);
                if (r < 0) return VmFault.VM_FAULT_SIGBUS;
                if (cow) return CowPage(kaddr, out pfn);
                return VmFault.VM_FAULT_NOPAGE;
            }
            finally
            {
                Ops.IomapEnd(inode, pos, (long)PageDefs.PAGE_SIZE, (long)PageDefs.PAGE_SIZE, flags, iomap);
            }
        }
    }

    /// <summary>dax_fault_cow_page / copy_cow_page_dax: copy the window page into a new anonymous page (x86 copy_page, no fixup).</summary>
    private VmFault CowPage(KernelPtr src, out ulong pfn)
    {
        using var fn = Machine.Tracer.Fn("dax_fault_cow_page", "fs");
        pfn = 0;
        var p = Machine.Phys.AllocPage();
        if (p < 0) return VmFault.VM_FAULT_OOM;
        pfn = (ulong)p;
        Machine.Phys.Frame(pfn).SetAnon();
        using (Machine.Tracer.Fn("copy_cow_page_dax", "fs")) Machine.Copy.CopyPage(KernelPtr.FromPhys(PhysAddr.FromPfn(pfn)), src);
        return VmFault.VM_FAULT_NOPAGE;
    }
}
