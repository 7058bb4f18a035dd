using KernelSim.Block;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct nd_namespace_io with nsio_rw_bytes (drivers/nvdimm/claim.c): the byte access a claim (BTT, info blocks) has to a
/// namespace. Enabling it (devm_nsio_enable) maps the range with memremap (an ioremap window here) and fills its own
/// badblocks, relative to the namespace start, from the bus bad-range list.
/// </summary>
public sealed class Nsio : INdNamespaceIo
{
    private const int READ = 0;
    private readonly Machine _m;
    private readonly KernelPtr _addr;

    /// <summary>
    /// devm_nsio_enable: the namespace <paramref name="name"/> of <paramref name="region"/> at physical
    /// [<paramref name="start"/>, +<paramref name="size"/>). The range must be registered in the physical map (by the
    /// bus); throws <see cref="ArgumentException"/> for a range outside the region (a setup error).
    /// </summary>
    public Nsio(Machine machine, NdRegion region, string name, ulong start, ulong size)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(region);
        if (size == 0 || start < region.Start || start + size > region.Start + region.Size)
            throw new ArgumentException($"{name}: [{start:x}, +{size:x}) is not inside {region.Name}");
        _m = machine;
        Region = region;
        Name = name;
        Start = start;
        Size = size;
        _addr = machine.KernelMap.Ioremap(new PhysAddr(start), size, name);
        RevalidatePoison();
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public NdRegion Region { get; }

    /// <inheritdoc/>
    public ulong Start { get; }

    /// <inheritdoc/>
    public ulong Size { get; }

    /// <inheritdoc/>
    public Badblocks Bb { get; private set; } = new();

    /// <summary>nsio-&gt;addr: the kernel mapping of the namespace.</summary>
    public KernelPtr Addr => _addr;

    /// <summary>nvdimm_flush calls made after writes (a barrier here, as for pmem).</summary>
    public int Flushes { get; private set; }

    /// <summary>
    /// devm_nsio_enable again for the same extent (a later probe of the namespace): a fresh badblocks table
    /// (devm_init_badblocks) filled from the bus list; the memremap window is kept.
    /// </summary>
    internal void Enable()
    {
        Bb = new Badblocks();
        RevalidatePoison();
    }

    /// <summary>
    /// nvdimm_badblocks_populate(nd_region, &amp;nsio-&gt;bb, &amp;nsio-&gt;res): add the bus bad ranges overlapping the namespace
    /// (add-only). devm_nsio_enable does it once; nd_pmem_notify(NVDIMM_REVALIDATE_POISON) does it again for a BTT claim.
    /// </summary>
    public void RevalidatePoison() => Region.Bus.Badrange.Populate(Bb, Start, Start + Size - 1);

    /// <summary>
    /// nsio_rw_bytes. An empty request is 0; a range past the end −EFAULT (after a WARN). READ: a known-bad sector in
    /// [offset, offset+size) rounded out to 512 bytes → −EIO without touching the media, else copy_mc_to_kernel — from
    /// 5.10 any remainder is −EIO; before, the memcpy_mcsafe result is returned as is (bytes remaining from 4.18, −EFAULT
    /// before). WRITE over a known-bad sector: when offset and size are multiples of 512 and the caller may sleep
    /// (no NVDIMM_IO_ATOMIC), nvdimm_clear_poison on the physical range — −EIO if it cleared 0 ≤ n &lt; size bytes (a
    /// negative result compares as a huge unsigned number, so a failed clear leaves the result 0), and the whole cleared
    /// sectors leave the badblocks; otherwise −EIO. The data is written with memcpy_flushcache in every
    /// case (even when the result is −EIO), then nvdimm_flush.
    /// </summary>
    public int RwBytes(ulong offset, KernelPtr buf, ulong size, bool write, NvdimmIoFlags flags)
    {
        using var _ = _m.Tracer.Fn("nsio_rw_bytes", "nvdimm");
        if (size == 0) return 0;
        if (offset + size > Size || offset + size < offset)
        {
            _m.State.Printk($"WARNING: {Name}: request out of range");
            return -Errno.EFAULT;
        }
        var szAlign = ((size + (offset & 511)) + 511) & ~511UL;
        var sector = (long)(offset >> 9);
        if (!write)
        {
            if (IsBad(sector, szAlign)) return -Errno.EIO;
            if (_m.Profile.CopyMcFastString) return _m.Copy.CopyMcToKernel(buf, _addr + offset, size) != 0 ? -Errno.EIO : 0;
            return (int)_m.Copy.MemcpyMcsafe(buf, _addr + offset, size);
        }
        var rc = 0;
        if (IsBad(sector, szAlign))
        {
            if ((offset & 511) == 0 && (size & 511) == 0 && (flags & NvdimmIoFlags.NVDIMM_IO_ATOMIC) == 0)
            {
                var cleared = Region.Bus.ClearPoison(Start + offset, size);
                // "long cleared < size_t size" compares as unsigned: a failed clear (−errno) is not "less", so rc stays 0.
                if (cleared >= 0 && (ulong)cleared < size) rc = -Errno.EIO;
                if (cleared > 0 && cleared / 512 != 0) Bb.Clear(sector, cleared / 512);
                // arch_invalidate_pmem: the model keeps no cached copy of the media.
            }
            else
            {
                rc = -Errno.EIO;
            }
        }
        _m.Copy.MemcpyFlushcache(_addr + offset, buf, size);
        Flushes++;
        return rc;
    }

    /// <summary>is_bad_pmem(&amp;nsio-&gt;bb, sector, len).</summary>
    private bool IsBad(long sector, ulong len) => Bb.Count != 0 && Bb.Check(sector, (long)(len >> 9)) != 0;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} nsio phys=0x{Start:x} size={Size}";
}
