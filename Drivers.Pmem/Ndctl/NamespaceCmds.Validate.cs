using System.Security.Cryptography;
using System.Text;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>ndctl/namespace.c validate_namespace_options and setup_namespace: the parameters a create or reconfigure resolves to, and the sysfs writes that apply them.</summary>
internal static partial class NamespaceCmds
{
    /// <summary>struct parsed_parameters.</summary>
    private sealed class P
    {
        public string Loc = "none";
        public string Uuid = "";
        public string Name = "";
        public NsMode Mode = NsMode.Raw;
        public ulong Size, Align, SectorSize;
    }

    /// <summary>validate_namespace_options.</summary>
    private static int Validate(Run r, NdRegion region, NdNamespace? ns, out P p)
    {
        p = new P();
        var io = r.Io;
        var regionName = region.Devname;
        if (!region.IsEnabled) return -Uapi.Errno.EAGAIN;
        ulong units = 1;
        var defaultSize = false;
        if (r.V.Str("size") is { } s) p.Size = SizeParse.Parse64(s, out units);
        else if (ns != null) p.Size = ns.Size;
        else defaultSize = true;
        if (ns == null)
        {
            var avail = region.NsType == NdNamespace.ND_DEVICE_NAMESPACE_IO ? region.Size : region.MaxAvailableExtent;
            if (avail == ulong.MaxValue) avail = region.AvailableSize;
            if (avail == 0 || p.Size > avail) return -Uapi.Errno.EAGAIN;
            if (p.Size == 0) p.Size = avail;
        }
        if (region.NsType == NdNamespace.ND_DEVICE_NAMESPACE_IO && p.Size != region.Size)
        {
            io.Error("Legacy / label-less namespaces do not support sub-dividing a region\n");
            io.Error("Retry without -s/--size=\n");
            return -Uapi.Errno.EINVAL;
        }
        p.Uuid = r.V.Str("uuid") ?? GenerateUuid(io, region, "ns");
        p.Name = r.V.Str("name") ?? ns?.AltName ?? "";
        if (p.Name.Length >= 64)
        {
            r.Err("validate_namespace_options: alt name overflow\n");
            return -Uapi.Errno.EINVAL;
        }
        NdPfn? pfn = null, dax = null;
        if (r.Mode != null)
        {
            p.Mode = FilterParams.NsModeOf(r.Mode);
            if (region.Type != 2 && p.Mode is NsMode.Fsdax or NsMode.Devdax)
            {
                r.Err($"blk {regionName} does not support {FilterParams.NsModeName(p.Mode)} mode\n");
                return -Uapi.Errno.EAGAIN;
            }
        }
        else if (ns != null) p.Mode = ns.Mode ?? NsMode.Raw;
        if (p.Mode == NsMode.Fsdax)
        {
            pfn = region.PfnSeed;
            if (pfn == null && r.ModeDefault)
            {
                r.Err($"{regionName} fsdax mode not available\n");
                p.Mode = NsMode.Raw;
            }
        }
        else if (p.Mode == NsMode.Devdax)
        {
            dax = region.DaxSeed;
            if (dax == null)
            {
                io.Error("Kernel does not support devdax mode\n");
                return -Uapi.Errno.ENODEV;
            }
        }
        if (r.V.Str("align") is { } a)
        {
            LbaSize aligns;
            switch (p.Mode)
            {
                case NsMode.Fsdax:
                    if (pfn == null)
                    {
                        io.Error("Kernel does not support setting an alignment in fsdax mode\n");
                        return -Uapi.Errno.EINVAL;
                    }
                    aligns = pfn.Alignments;
                    break;
                case NsMode.Devdax:
                    aligns = dax!.Alignments;
                    break;
                default:
                    io.Error($"{FilterParams.NsModeName(p.Mode)} mode does not support setting an alignment\n");
                    return -Uapi.Errno.ENXIO;
            }
            p.Align = SizeParse.Parse64(a);
            if (!aligns.Supported.Contains(p.Align))
            {
                io.Error($"unsupported align: {a}\n");
                return -Uapi.Errno.ENXIO;
            }
        }
        else
        {
            if (ns != null && p.Mode == ns.Mode)
                p.Align = ns.Pfn?.Align ?? ns.Dax?.Align ?? 4096;
            else if (p.Mode == NsMode.Fsdax) p.Align = pfn != null && pfn.HasAlign ? pfn.Align : 2UL << 20;
            else if (p.Mode == NsMode.Devdax) p.Align = dax!.Align;
            else p.Align = 4096;
            var res = region.Resource;
            if (res < ulong.MaxValue && p.Align != 0 && (res & (p.Align - 1)) != 0) p.Align = 4096;
        }
        if (region.Align < ulong.MaxValue && region.Align != 0 && p.Size % region.Align != 0)
        {
            r.Err($"{regionName}: align setting is 0x{region.Align:x} size 0x{p.Size:x} is misaligned\n");
            return -Uapi.Errno.EINVAL;
        }
        var ways = (ulong)region.InterleaveWays;
        if (p.Align != 0 && p.Size % (p.Align * ways) != 0)
        {
            var suffix = units switch { 1UL << 10 => "K", 1UL << 20 => "M", 1UL << 30 => "G", 1UL << 40 => "T", _ => "" };
            var sizeAlign = Math.Max(units, p.Align) * ways;
            var want = (p.Size / sizeAlign + 1) * sizeAlign / units;
            r.Err($"'--size=' must align to interleave-width: {ways} and alignment: {p.Align}\ndid you intend --size={want}{suffix}?\n");
            return -Uapi.Errno.EINVAL;
        }
        if (p.Size < 16UL << 20 && p.Mode != NsMode.Raw)
        {
            if (defaultSize) return -Uapi.Errno.EAGAIN;
            io.Error($"'--size=' must be >= 16MiB for '{FilterParams.NsModeName(p.Mode)}' mode\n");
            return -Uapi.Errno.EINVAL;
        }
        if (r.SectorSize != null)
        {
            p.SectorSize = SizeParse.Parse64(r.SectorSize);
            var btt = region.BttSeed;
            if (p.Mode == NsMode.Sector)
            {
                if (btt == null)
                {
                    r.Err($"{regionName}: does not support 'sector' mode\n");
                    return -Uapi.Errno.EINVAL;
                }
                if (!btt.LbaSize.Supported.Contains(p.SectorSize))
                {
                    r.Err($"{regionName}: does not support btt sector_size {p.SectorSize}\n");
                    return -Uapi.Errno.EINVAL;
                }
            }
            else
            {
                var seed = ns ?? region.NamespaceSeed;
                if (seed == null)
                {
                    r.Err($"{regionName}: failed to get seed\n");
                    return -Uapi.Errno.ENXIO;
                }
                if (!seed.LbaSize.Supported.Contains(p.SectorSize))
                {
                    r.Err($"{regionName}: does not support namespace sector_size {p.SectorSize}\n");
                    return -Uapi.Errno.EINVAL;
                }
            }
        }
        else if (ns != null)
            p.SectorSize = ns.Btt is { } btt && p.Mode == NsMode.Sector ? btt.SectorSize : ns.SectorSize;
        else
        {
            var seed = region.NamespaceSeed;
            if (seed == null)
            {
                r.Err($"{regionName}: failed to get seed\n");
                return -Uapi.Errno.ENXIO;
            }
            p.SectorSize = seed.LbaSize.Supported.Count == 0 ? uint.MaxValue : 512;
        }
        if (r.Map != null)
        {
            p.Loc = r.Map == "mem" ? "ram" : "pmem";
            if (ns != null && p.Mode is not (NsMode.Fsdax or NsMode.Devdax))
            {
                r.Err($"{ns.Devname}: --map= only valid for fsdax mode namespace\n");
                return -Uapi.Errno.EINVAL;
            }
        }
        else if (p.Mode is NsMode.Fsdax or NsMode.Devdax) p.Loc = "pmem";
        if (pfn == null && DoSetupPfn(ns, p))
        {
            io.Error($"operation failed, {regionName} cannot support requested mode\n");
            return -Uapi.Errno.EINVAL;
        }
        return 0;
    }

    /// <summary>do_setup_pfn: fsdax always needs a pfn device unless the namespace already is fsdax with the memmap in RAM.</summary>
    private static bool DoSetupPfn(NdNamespace? ns, P p) =>
        p.Mode == NsMode.Fsdax && (ns == null || ns.Mode != NsMode.Fsdax || p.Loc == "pmem");

    /// <summary>
    /// uuid_generate, made deterministic: a version-4 layout over a hash of the region, the purpose, the process and
    /// the output so far (libuuid reads getrandom(2), which the simulator does not model).
    /// </summary>
    private static string GenerateUuid(NdctlIo io, NdRegion region, string what)
    {
        var seed = $"{region.Path}/{what}/{io.P.Pid}/{io.Out.Length}/{io.Err.Length}";
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        h[6] = (byte)(h[6] & 0x0f | 0x40);
        h[8] = (byte)(h[8] & 0x3f | 0x80);
        return new Guid(h.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    /// <summary>check_dax_align: the namespace must start on 16 MiB (or --force).</summary>
    private static int CheckDaxAlign(Run r, NdNamespace ns)
    {
        if (ns.Resource == ulong.MaxValue)
        {
            r.Io.Warning($"{ns.Devname} unable to validate alignment\n");
            return 0;
        }
        if ((ns.Resource & ((16UL << 20) - 1)) == 0 || r.Force) return 0;
        r.Io.Error($"{ns.Devname} misaligned to 16M, adjust region alignment and retry\n");
        return -Uapi.Errno.EINVAL;
    }

    private static int Try(Run r, string dev, string op, int rc)
    {
        if (rc != 0) r.Err($"{dev}: {op} failed: {NdctlMain.StrErr(rc)}\n");
        return rc;
    }

    /// <summary>setup_namespace: uuid/name/size (labelled), sector size, holder_class, then the claim device and its enable.</summary>
    private static int Setup(Run r, NdRegion region, NdNamespace ns, P p)
    {
        int rc;
        var dev = ns.Devname;
        if (ns.Type != NdNamespace.ND_DEVICE_NAMESPACE_IO)
        {
            if ((rc = Try(r, dev, "set_uuid", ns.SetUuid(p.Uuid))) != 0) return rc;
            if ((rc = Try(r, dev, "set_alt_name", ns.SetAltName(p.Name))) != 0) return rc;
            if ((rc = Try(r, dev, "set_size", ns.SetSize(p.Size))) != 0) return rc;
        }
        if (p.SectorSize != 0 && p.SectorSize < uint.MaxValue)
        {
            if (ns.LbaSize.Supported.Contains(p.SectorSize))
            {
                if ((rc = Try(r, dev, "set_sector_size", ns.SetSectorSize(p.SectorSize))) != 0) return rc;
            }
            else if (p.Mode == NsMode.Sector) { }
            else if (p.SectorSize != 512)
            {
                r.Io.Error($"{dev}: sector_size: {p.SectorSize} not supported\n");
                return -Uapi.Errno.EINVAL;
            }
        }
        var uuid = GenerateUuid(r.Io, region, "claim");
        ns.SetEnforceMode(p.Mode);
        if (DoSetupPfn(ns, p) || p.Mode == NsMode.Devdax)
        {
            var claim = p.Mode == NsMode.Devdax ? region.DaxSeed : region.PfnSeed;
            if (claim == null) return -Uapi.Errno.ENXIO;
            if ((rc = CheckDaxAlign(r, ns)) != 0) return rc;
            var cdev = claim.Devname;
            if ((rc = Try(r, cdev, "set_uuid", claim.SetUuid(uuid))) != 0) return rc;
            if ((rc = Try(r, cdev, "set_location", claim.SetLocation(p.Loc))) != 0) return rc;
            if ((p.Mode == NsMode.Devdax || claim.HasAlign) && (rc = Try(r, cdev, "set_align", claim.SetAlign(p.Align))) != 0) return rc;
            if ((rc = Try(r, cdev, "set_namespace", claim.SetNamespace(ns))) != 0) return rc;
            rc = claim.Enable();
            if (rc != 0 && r.Autorecover) claim.SetNamespace(null);
        }
        else if (p.Mode == NsMode.Sector)
        {
            var btt = region.BttSeed;
            if (btt == null) return -Uapi.Errno.ENXIO;
            if (p.SectorSize == uint.MaxValue) p.SectorSize = 4096;
            var bdev = btt.Devname;
            if ((rc = Try(r, bdev, "set_uuid", btt.SetUuid(uuid))) != 0) return rc;
            if ((rc = Try(r, bdev, "set_sector_size", btt.SetSectorSize(p.SectorSize))) != 0) return rc;
            if ((rc = Try(r, bdev, "set_namespace", btt.SetNamespace(ns))) != 0) return rc;
            rc = btt.Enable();
        }
        else rc = ns.Enable();
        if (rc != 0) r.Io.Error($"{dev}: failed to enable\n");
        else if (NdJson.Namespace(ns, JsonFlags.Dax) is { } j) r.Io.Out.Append(j.ToPretty()).Append('\n');
        return rc < 0 ? rc : 0;
    }

    /// <summary>
    /// util_daxctl_region_to_json with UTIL_JSON_DAX | UTIL_JSON_DAX_DEVS: id, size, available_size (when non-zero),
    /// align, and the devices (chardev, size, target_node, align, mode).
    /// </summary>
    internal static JObject? DaxRegionJson(NdctlIo io, NdPfn dax)
    {
        var ctx = new NdCtx(io);
        var rp = NdStrings.Path(dax.Path, "dax_region");
        if (ctx.Attr(NdStrings.Path(rp, "id")) is not { } id) return null;
        var j = new JObject().Add("id", new JInt(CStr.StrToL(id, 0, out _)));
        var size = ctx.AttrU(NdStrings.Path(rp, "size"), ulong.MaxValue);
        if (size < ulong.MaxValue) j.Add("size", new JInt((long)size));
        var avail = ctx.AttrU(NdStrings.Path(rp, "available_size"), 0);
        if (avail != 0) j.Add("available_size", new JInt((long)avail));
        var align = ctx.AttrU(NdStrings.Path(rp, "align"), ulong.MaxValue);
        if (align < ulong.MaxValue) j.Add("align", new JInt(align));
        var devs = new JArray();
        if (dax.DaxChardev is { } chardev)
        {
            var dp = dax.Path + "/" + chardev;
            var jd = new JObject().Add("chardev", new JString(chardev)).Add("size", new JInt((long)ctx.AttrU(NdStrings.Path(dp, "size"), 0)));
            var node = ctx.AttrL(NdStrings.Path(dp, "target_node"), -1);
            if (node >= 0) jd.Add("target_node", new JInt(node));
            var dalign = ctx.AttrU(NdStrings.Path(dp, "align"), 0);
            if (dalign > 0) jd.Add("align", new JInt(dalign));
            jd.Add("mode", new JString("devdax"));
            if (!io.IsLink(NdStrings.Path(dp, "driver"))) jd.Add("state", new JString("disabled"));
            devs.Add(jd);
        }
        if (devs.Items.Count > 0) j.Add("devices", devs);
        return j;
    }
}
