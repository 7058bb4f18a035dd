using KernelSim.Mm;

namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>
/// The host's RAM that backs host page-cache pages (what the VMM's MAP_SHARED file mappings and KVM's EPT entries
/// point to). It lives in the simulation's <see cref="PhysicalMemory"/> as a range the guest never maps (not in
/// the direct map, never handed out by the guest allocator), so guest copies through the window move bytes of host
/// pages with the same span copies as any other memory. Not a kernel type. A singleton of the machine's container
/// (registered by <see cref="VirtioFs.AddVirtioFs(Kernel.MachineBuilder)"/>), created with the first share.
/// </summary>
/// <remarks>
/// The host's own reads and writes of these pages (virtiofsd's pread/pwrite, the VMM's FS_IO) are host loads and
/// stores, not guest kernel copies, so they use the physical-memory debugger view (<see cref="PhysicalMemory.PeekBytes"/>,
/// <see cref="PhysicalMemory.PokeBytes"/>) rather than the guest CPU's copy routines; guest poison rules do not apply.
/// </remarks>
public sealed class HostMemory
{
    /// <summary>Where host memory sits in the simulation's physical address space (far above any guest range).</summary>
    public const ulong Base = 1UL << 44;
    /// <summary>Size of the host-memory range (sparse: only touched pages cost anything).</summary>
    public const ulong Size = 1UL << 40;

    private readonly PhysicalMemory _phys;
    private readonly SortedSet<ulong> _free = [];
    private ulong _next;

    internal HostMemory(PhysicalMemory phys)
    {
        _phys = phys;
        Range = _phys.Register(new PhysAddr(Base), Size, MemoryKind.DeviceWindow, "host memory (outside the guest)");
        Range.DirectMapped = false;
        _next = Range.Start.Pfn;
    }

    /// <summary>The physical range.</summary>
    public PhysRange Range { get; }

    /// <summary>Pages in use.</summary>
    public int PagesInUse { get; private set; }

    /// <summary>Allocate a zeroed host page; its pfn.</summary>
    public ulong AllocPage()
    {
        ulong pfn;
        if (_free.Count > 0)
        {
            pfn = _free.Min;
            _free.Remove(pfn);
        }
        else
        {
            pfn = _next++;
        }
        Zero(pfn, 0, (int)PageDefs.PAGE_SIZE);
        PagesInUse++;
        return pfn;
    }

    /// <summary>Free a host page.</summary>
    public void FreePage(ulong pfn)
    {
        if (_free.Add(pfn)) PagesInUse--;
    }

    /// <summary>Copy bytes of a host page, from <paramref name="off"/>, into <paramref name="into"/> (within the page).</summary>
    internal void Read(ulong pfn, int off, Span<byte> into) => _phys.PeekBytes(At(pfn, off, into.Length), into);

    /// <summary>Store <paramref name="data"/> into a host page at <paramref name="off"/> (within the page).</summary>
    internal void Write(ulong pfn, int off, ReadOnlySpan<byte> data) => _phys.PokeBytes(At(pfn, off, data.Length), data);

    /// <summary>Zero <paramref name="len"/> bytes of a host page from <paramref name="off"/>.</summary>
    internal void Zero(ulong pfn, int off, int len) => Write(pfn, off, ZeroPage.AsSpan(0, len));

    private static readonly byte[] ZeroPage = new byte[PageDefs.PAGE_SIZE];

    private static PhysAddr At(ulong pfn, int off, int len)
    {
        if ((uint)off > PageDefs.PAGE_SIZE || (uint)len > PageDefs.PAGE_SIZE - (uint)off)
            throw new ArgumentOutOfRangeException(nameof(len), "host page access must lie within one page");
        return new PhysAddr((pfn << PageDefs.PAGE_SHIFT) + (ulong)off);
    }
}
