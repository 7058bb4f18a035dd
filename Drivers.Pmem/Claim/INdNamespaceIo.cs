using KernelSim.Block;
using KernelSim.Mm;

namespace KernelSim.Drivers.Pmem;

/// <summary>Flags of nvdimm_read_bytes / nvdimm_write_bytes (include/linux/nd.h).</summary>
[Flags]
public enum NvdimmIoFlags
{
    /// <summary>No flag: a write over a known-bad range may clear it (it may sleep).</summary>
    None = 0,
    /// <summary>NVDIMM_IO_ATOMIC: the caller cannot sleep, so a write over a known-bad range is not cleared (−EIO).</summary>
    NVDIMM_IO_ATOMIC = 1,
}

/// <summary>
/// The byte-level access a claim (BTT, pfn/dax info block) has to its namespace: struct nd_namespace_common with its
/// -&gt;rw_bytes (drivers/nvdimm/nd.h). Offsets are bytes from the namespace start.
/// </summary>
public interface INdNamespaceIo
{
    /// <summary>dev_name(&amp;ndns-&gt;dev): "namespace0.0".</summary>
    string Name { get; }

    /// <summary>The region the namespace belongs to (nvdimm_clear_poison and nvdimm_flush go through its bus).</summary>
    NdRegion Region { get; }

    /// <summary>nsio-&gt;res.start: the first physical byte.</summary>
    ulong Start { get; }

    /// <summary>nsio-&gt;size: the namespace size in bytes.</summary>
    ulong Size { get; }

    /// <summary>nsio-&gt;bb: known-bad 512-byte sectors, relative to the namespace start.</summary>
    Badblocks Bb { get; }

    /// <summary>
    /// ndns-&gt;rw_bytes(ndns, offset, buf, size, rw, flags): copy <paramref name="size"/> bytes between the namespace and
    /// the kernel buffer <paramref name="buf"/>; <paramref name="write"/> selects WRITE. 0 or −errno (before 5.10 a read
    /// returns what memcpy_mcsafe returned).
    /// </summary>
    int RwBytes(ulong offset, KernelPtr buf, ulong size, bool write, NvdimmIoFlags flags);
}
