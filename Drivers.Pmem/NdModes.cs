using Microsoft.Extensions.DependencyInjection;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The sector and devdax personalities of a namespace (docs/kernel/pmem.md NS4, BT6, DD9): nd_pmem on a btt device (nvdimm_namespace_attach_btt,
/// drivers/nvdimm/btt.c) and the dax_pmem driver on a dax device (__dax_pmem_probe, drivers/dax/pmem.c).
/// </summary>
public sealed partial class NvdimmBus
{
    /// <summary>
    /// nvdimm_namespace_attach_btt: −ENODEV for an incomplete configuration (no uuid or sector size: "incomplete btt
    /// configuration"); devm_namespace_enable over the whole namespace; then btt_init (<see cref="Btt.Attach"/>) finds the
    /// arenas on the media or writes a new layout, and adds the disk pmemRs. The BTT's parent_uuid is the namespace uuid.
    /// </summary>
    private int AttachBtt(NdClaim c, NdNamespace ns)
    {
        if (c.Uuid == null || c.LbaSize == 0)
        {
            Machine.State.Printk($"nd_pmem {c.Name}: incomplete btt configuration");
            return -Errno.ENODEV;
        }
        var io = NsioEnable(ns);
        var rc = Btt.Attach(Machine, io, c.LbaSize, new Guid(c.Uuid, bigEndian: true), new Guid(ns.ParentUuid, bigEndian: true), out var btt);
        if (rc < 0) return rc;
        c.Btt = btt;
        return 0;
    }

    /// <summary>
    /// __dax_pmem_probe: devm_namespace_enable, nvdimm_setup_pfn with the DAX signature (a valid NVDIMM_DAX_INFO block is
    /// kept, otherwise a new one is written, exactly as for fsdax), then the device-dax range is the namespace after
    /// start_pad + dataoff up to end_trunc; alloc_dax_region with the block's align (a start or size not a multiple of it
    /// → −ENOMEM) and devm_create_dev_dax "daxR.N" (N from "namespaceR.N") below the nd dax device, bound to device_dax at
    /// once. The metadata stays reserved for the nd dax device (devm_request_mem_region).
    /// </summary>
    private int DaxPmemProbe(NdClaim c, NdNamespace ns)
    {
        NsioEnable(ns);
        var rc = SetupPfn(c);
        if (rc < 0) return rc;
        var sb = c.Sb!;
        var start = ns.Start + sb.StartPad + sb.DataOff;
        var end = ns.Start + ns.Size - sb.EndTrunc;
        if (start >= end) return -Errno.ENOMEM;
        var size = end - start;
        if (!DevDax.AlignValid(sb.Align) || start % sb.Align != 0 || size % sb.Align != 0)
        {
            // alloc_dax_region returns NULL before anything is mapped.
            return DevDax.AlignValid(sb.Align) ? -Errno.ENOMEM : -Errno.EINVAL;
        }
        var range = c.Region.MapRange(start, size, $"dax{ns.Region.Id}.{ns.Id}");
        var daxBus = Machine.Services.GetRequiredService<DaxBus>();
        rc = DevDax.Attach(Machine, daxBus, ns.Region.Id, ns.Id, start, size, sb.Align, () => c.SysDir, targetNode: 0, out var dev);
        if (rc < 0)
        {
            c.Region.UnmapRange(range);
            return rc;
        }
        c.DevDax = dev;
        c.DaxRange = range;
        return 0;
    }

    /// <summary>dax_pmem's devm teardown on unbind: unregister_dev_dax (mappings zapped, /dev/daxR.N gone), the range unmapped.</summary>
    private static void DaxPmemRemove(NdClaim c)
    {
        c.DevDax!.Detach();
        c.DevDax = null;
        if (c.DaxRange != null) c.Region.UnmapRange(c.DaxRange);
        c.DaxRange = null;
    }
}
