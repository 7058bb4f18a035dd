using KernelSim.Block;
using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The struct file of an open /dev/daxX.Y (dax_fops, drivers/dax/device.c): no -&gt;read / -&gt;write (read(2) and write(2)
/// fail with −EINVAL), llseek = noop_llseek, -&gt;mmap with check_vma, -&gt;get_unmapped_area aligning the mapping to the
/// device alignment, and MAP_SYNC accepted with MAP_SHARED_VALIDATE.
/// </summary>
public sealed class DevDaxFile : KFile
{
    internal DevDaxFile(CdevInode inode, int flags, DevDax dev) : base(inode, flags) => Dev = dev;

    /// <summary>filp-&gt;private_data: the dev_dax.</summary>
    public DevDax Dev { get; }

    /// <inheritdoc/>
    protected override bool HasReadIter => false;

    /// <inheritdoc/>
    protected override bool HasWriteIter => false;

    /// <summary>noop_llseek: the position does not move; the current f_pos is returned.</summary>
    public override long Llseek(long offset, int whence) => Pos;

    /// <summary>mmap_supported_flags = MAP_SYNC.</summary>
    public override int MmapSupportedFlags => Mman.MAP_SYNC;

    /// <summary>
    /// dax_mmap: check_vma (−ENXIO for a device whose driver is gone; −EINVAL for a private mapping, "fail, attempted
    /// private mapping"; −EINVAL when vm_start or vm_end is not a multiple of the alignment, "fail, unaligned vma"), then
    /// the device-dax vm_ops (VM_HUGEPAGE).
    /// </summary>
    public override int Mmap(Vma vma)
    {
        var rc = Dev.CheckVma(vma.Shared, vma.Start, vma.End, "dax_mmap");
        if (rc != 0) return rc;
        vma.VmOps = Dev.VmOps;
        return 0;
    }

    /// <summary>
    /// dax_get_unmapped_area: with no hint, and when the file range holds at least one aligned block, ask the mm for len +
    /// align bytes and move the start up so that address and file offset agree modulo the alignment; otherwise (or when
    /// that fails) the mm's ordinary placement.
    /// </summary>
    public override ulong? GetUnmappedArea(MmStruct mm, ulong addr, ulong len, ulong pgoff, int flags)
    {
        if (addr != 0) return null;
        var align = Dev.Align;
        var off = pgoff << PageDefs.PAGE_SHIFT;
        var offEnd = off + len;
        var offAlign = (off + align - 1) & ~(align - 1);
        if (offEnd <= offAlign || offEnd - offAlign < align) return null;
        var lenAlign = len + align;
        if (off + lenAlign < off) return null;
        var addrAlign = mm.GetUnmappedArea(lenAlign);
        if (addrAlign == 0) return null;
        return addrAlign + ((off - addrAlign) & (align - 1));
    }

    /// <inheritdoc/>
    public override string ToString() => $"/dev/{Dev.Name} pos={Pos}";
}
