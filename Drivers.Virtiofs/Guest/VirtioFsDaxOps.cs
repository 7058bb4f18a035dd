using KernelSim.Dax;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// virtio_fs_dax_ops (fs/fuse/virtio_fs.c): direct_access hands out window addresses (kaddr = window_kaddr +
/// pgoff·4096, pfn = window_phys + offset, at most the pages left in the window); zero_page_range = memset +
/// dax_flush; no recovery_write.
/// </summary>
public sealed class VirtioFsDaxOps : IDaxOperations
{
    private readonly Kernel.Machine _machine;

    internal VirtioFsDaxOps(Kernel.Machine machine, PhysRange window)
    {
        _machine = machine;
        Window = window;
    }

    /// <summary>The window.</summary>
    public PhysRange Window { get; }

    private ulong Pages => Window.Size >> PageDefs.PAGE_SHIFT;

    /// <inheritdoc/>
    public long DirectAccess(DaxDevice dev, ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn)
    {
        kaddr = KernelPtr.FromPhys(Window.Start + (pgoff << PageDefs.PAGE_SHIFT));
        pfn = Window.Start.Pfn + pgoff;
        if (pgoff >= Pages) return 0;
        return (long)Math.Min((ulong)Math.Max(nrPages, 0), Pages - pgoff);
    }

    /// <inheritdoc/>
    public int ZeroPageRange(DaxDevice dev, ulong pgoff, ulong nrPages)
    {
        if (pgoff + nrPages > Pages) return -Errno.EIO;
        _machine.Copy.Memset(KernelPtr.FromPhys(Window.Start + (pgoff << PageDefs.PAGE_SHIFT)), 0, nrPages << PageDefs.PAGE_SHIFT);
        return 0;
    }

    /// <inheritdoc/>
    public ulong? RecoveryWrite(DaxDevice dev, ulong pgoff, KernelPtr addr, ulong bytes, IovIter iter) => null;
}
