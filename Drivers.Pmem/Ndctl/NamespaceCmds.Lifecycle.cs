using System.Security.Cryptography;
using System.Text;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>ndctl/namespace.c namespace_create, namespace_reconfig, namespace_destroy, zero_info_block and namespace_clear_bb.</summary>
internal static partial class NamespaceCmds
{
    /// <summary>validate + region_get_namespace + setup_namespace (autorecover: raw holder_class and delete on failure).</summary>
    private static int NamespaceCreate(Run r, NdRegion region)
    {
        var rc = Validate(r, region, null, out var p);
        if (rc != 0) return rc;
        if (region.ReadOnly) return -Uapi.Errno.EAGAIN;
        var ns = RegionGetNamespace(region);
        if (ns == null || !ns.IsConfigurationIdle) return -Uapi.Errno.EAGAIN;
        rc = Setup(r, region, ns, p);
        if (rc != 0 && r.Autorecover)
        {
            ns.SetEnforceMode(NsMode.Raw);
            ns.Delete();
        }
        return rc;
    }

    /// <summary>region_get_namespace: namespace id 0 when configuration-idle, else the seed.</summary>
    private static NdNamespace? RegionGetNamespace(NdRegion region) =>
        region.Namespaces.Find(n => n.Id == 0 && n.IsConfigurationIdle) ?? region.NamespaceSeed;

    /// <summary>
    /// zero_info_block: force_raw, enable, read the first 8 KiB through the block device (O_DIRECT|O_EXCL) and zero
    /// them unless already zero; then force_raw off and disable_invalidate. 0 zeroed, 1 skipped, &lt;0 error.
    /// </summary>
    private static int ZeroInfoBlock(Run r, NdNamespace ns)
    {
        var dev = ns.Devname;
        const int infoSize = 8192;
        ns.SetRawMode(true);
        var rc = ns.Enable();
        var p = r.Io.P;
        if (rc < 0)
        {
            r.Err($"{dev} failed to enable for zeroing, continuing\n");
            rc = 1;
        }
        else
        {
            var path = "/dev/" + ns.BlockDevice;
            var fd = p.Open(path, Uapi.Fcntl.O_RDWR | Uapi.Fcntl.O_DIRECT | Uapi.Fcntl.O_EXCL);
            if (fd < 0)
            {
                r.Err($"{dev}: failed to open {path} to zero info block\n");
                rc = -Uapi.Errno.ENXIO;
            }
            else
            {
                var buf = p.MapAnonymous(infoSize);
                var n = p.Pread64((int)fd, buf, infoSize, 0);
                if (n < infoSize) r.Err($"{dev}: failed to read info block, continuing\n");
                var data = new byte[infoSize];
                r.Io.Load(buf, data);
                if (n == infoSize && Array.TrueForAll(data, b => b == 0)) rc = 1;
                else
                {
                    r.Io.Store(buf, new byte[infoSize]);
                    n = p.Pwrite64((int)fd, buf, infoSize, 0);
                    if (n < infoSize)
                    {
                        r.Err($"{dev}: failed to zero info block {path}\n");
                        rc = -Uapi.Errno.ENXIO;
                    }
                    else rc = 0;
                }
                p.Close((int)fd);
                p.Munmap(buf.Value, infoSize);
            }
        }
        ns.SetRawMode(false);
        ns.DisableInvalidate();
        return rc;
    }

    /// <summary>namespace_prep_reconfig: refuse read-only and (without --force) active namespaces; disable, zero the info block.</summary>
    private static int PrepReconfig(Run r, NdRegion region, NdNamespace ns)
    {
        if (region.ReadOnly)
        {
            r.Io.Error($"{ns.Devname}: read-only, re-configuration disabled\n");
            return -Uapi.Errno.ENXIO;
        }
        if (ns.IsActive && !r.Force)
        {
            r.Io.Error($"{ns.Devname} is active, specify --force for re-configuration\n");
            return -Uapi.Errno.EBUSY;
        }
        var rc = ns.DisableSafe();
        if (rc != 0) return rc;
        ns.SetEnforceMode(NsMode.Raw);
        rc = ZeroInfoBlock(r, ns);
        if (rc < 0) return rc;
        var zeroed = rc == 0;
        return ns.Type is NdNamespace.ND_DEVICE_NAMESPACE_PMEM or NdNamespace.ND_DEVICE_NAMESPACE_BLK ? 2 : zeroed ? 0 : 1;
    }

    private static int NamespaceDestroy(Run r, NdRegion region, NdNamespace ns)
    {
        var rc = PrepReconfig(r, region, ns);
        if (rc < 0) return rc;
        if (rc == 2) rc = ns.Delete();
        return rc;
    }

    /// <summary>namespace_reconfig: validate, prepare, then set up again (label initialisation is not modelled).</summary>
    private static int NamespaceReconfig(Run r, NdRegion region, NdNamespace ns)
    {
        var rc = Validate(r, region, ns, out var p);
        if (rc != 0) return rc;
        rc = PrepReconfig(r, region, ns);
        if (rc < 0) return rc;
        if (region.NsType == NdNamespace.ND_DEVICE_NAMESPACE_IO && r.Autolabel && LabelsSupported(region))
        {
            r.Io.Error($"{region.Devname}: namespace label initialisation (--autolabel) is not modelled; retry with --no-autolabel\n");
            return -Uapi.Errno.EOPNOTSUPP;
        }
        return Setup(r, region, ns, p);
    }

    /// <summary>enable_labels' first test: every DIMM of the region supports get_size, get_data and set_data.</summary>
    private static bool LabelsSupported(NdRegion region) =>
        region.NumMappings > 0 && region.Mappings.Count == region.NumMappings && region.Mappings.All(m => m.Dimm.IsCmdSupported(4) && m.Dimm.IsCmdSupported(5) && m.Dimm.IsCmdSupported(6));

    /// <summary>namespace_clear_bb: wait for (or start) a scrub, clear every bad block inside the data area, re-enable, print.</summary>
    private static int ClearBadblocks(Run r, NdNamespace ns, bool doScrub)
    {
        var io = r.Io;
        if (ns.Btt != null) return 1;
        var bus = ns.Region.Bus;
        var dev = ns.Devname;
        var st = bus.GetScrubState(out _, out var active);
        if (st < 0)
        {
            io.Error($"{dev}: Unable to determine scrub state: {NdctlMain.StrErr(st)}\n");
            return st;
        }
        if (doScrub && !active)
        {
            var s = bus.StartScrub();
            if (s != 0)
            {
                io.Error($"{dev}: Unable to start scrub: {NdctlMain.StrErr(s)}\n");
                return s;
            }
        }
        var rc = bus.PollScrubCompletion(0, 0);
        if (rc != 0)
        {
            io.Error($"{dev}: Error waiting for scrub: {NdctlMain.StrErr(rc)}\n");
            return rc;
        }
        ulong begin, size;
        string devname;
        if (ns.Dax is { } dax) (begin, size, devname) = (dax.Resource, dax.Size, dax.Devname);
        else if (ns.Pfn is { } pfn) (begin, size, devname) = (pfn.Resource, pfn.Size, pfn.Devname);
        else (begin, size, devname) = (ns.Resource, ns.Size, dev);
        if (begin == ulong.MaxValue || size == ulong.MaxValue) return -Uapi.Errno.ENXIO;
        rc = ns.DisableSafe();
        if (rc != 0)
        {
            io.Error($"{devname}: unable to disable namespace: {NdctlMain.StrErr(rc)}\n");
            return rc;
        }
        rc = ClearRange(r, ns, devname, begin, size);
        if (rc != 0) return rc;
        if (NdJson.Namespace(ns, JsonFlags.MediaErrors) is { } j) io.Out.Append(j.ToPretty()).Append('\n');
        return 0;
    }

    /// <summary>nstype_clear_badblocks: bus_send_clear (ARS_CAP, CLEAR_ERROR) for each region bad block wholly inside the device.</summary>
    private static int ClearRange(Run r, NdNamespace ns, string devname, ulong devBegin, ulong devSize)
    {
        var region = ns.Region;
        var regionBegin = region.Resource;
        if (regionBegin == ulong.MaxValue)
        {
            if (ns.Enable() < 0) r.Io.Error($"{devname}: failed to reenable namespace\n");
            return -Uapi.Errno.ENXIO;
        }
        var devEnd = devBegin + devSize - 1;
        foreach (var (off, len) in region.Badblocks())
        {
            var bbBegin = regionBegin + (off << 9);
            var bbLen = (ulong)len << 9;
            if (bbBegin < devBegin || bbBegin + bbLen - 1 > devEnd) continue;
            var rc = BusSendClear(r, region.Bus, bbBegin, bbLen);
            if (rc != 0)
            {
                r.Io.Error($"{devname}: failed to clear badblock at {{{off}, {len}}}\n");
                break;
            }
        }
        var e = ns.Enable();
        return e < 0 ? e : 0;
    }

    /// <summary>bus_send_clear: ARS_CAP over the range, CLEAR_ERROR of it; the cleared count must cover it.</summary>
    private static int BusSendClear(Run r, NdBus bus, ulong start, ulong size)
    {
        var name = bus.Provider;
        if (!bus.IsCmdSupported(NdCmd.ND_CMD_ARS_CAP))
        {
            r.Err($"bus: {name} failed to create cmd\n");
            return -Uapi.Errno.ENOTTY;
        }
        var rc = NdCmd.ArsCap(bus, start, size, out var status, out _, out var unit);
        if (rc < 0)
        {
            r.Err($"bus: {name} failed to submit cmd: {rc}\n");
            return rc;
        }
        if ((status & 0xffff) != 0 || unit == 0 || (unit & (unit - 1)) != 0)
        {
            r.Err($"bus: {name} failed to get ars_cap range\n");
            return -Uapi.Errno.ENXIO;
        }
        if (!bus.IsCmdSupported(NdCmd.ND_CMD_ARS_STATUS) || ((start | size) & (unit - 1)) != 0)
        {
            r.Err($"bus: {name} failed to create cmd\n");
            return -Uapi.Errno.ENOTTY;
        }
        rc = NdCmd.ClearError(bus, start, size, out var cleared);
        if (rc < 0)
        {
            r.Err($"bus: {name} failed to submit cmd: {rc}\n");
            return rc;
        }
        if (cleared != size)
        {
            r.Err($"bus: {name} expected to clear: {size} actual: {cleared}\n");
            return -Uapi.Errno.ENXIO;
        }
        return 0;
    }
}
