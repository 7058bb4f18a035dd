using System.Globalization;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>enum ndctl_namespace_mode (ndctl/libndctl.h).</summary>
internal enum NsMode { Fsdax = 0, Sector = 1, Raw = 2, Devdax = 3, Unknown = 4 }

/// <summary>struct ndctl_lbasize: the "[sel] a b " lists of sector_size / supported_alignments.</summary>
internal sealed class LbaSize
{
    public List<ulong> Supported { get; } = [];
    public int Select { get; set; } = -1;

    /// <summary>
    /// parse_lbasize_supported: space-terminated fields, "[n]" marks the selected one. With
    /// <paramref name="terminated"/> the end of the text ends a field too (the text with a space appended).
    /// </summary>
    public static LbaSize Parse(string text, bool terminated = false)
    {
        var l = new LbaSize();
        var start = 0;
        int end;
        while (start <= text.Length && ((end = text.IndexOf(' ', start)) >= 0 || terminated))
        {
            if (end < 0) end = text.Length;
            var f = text.AsSpan(start, end - start);
            start = end + 1;
            if (f.Length >= 2 && f[0] == '[' && f[^1] == ']')
            {
                l.Select = l.Supported.Count;
                f = f[1..^1];
            }
            var v = CStr.StrToL(f, 10, out var e);
            if (e == 0) break;
            l.Supported.Add((ulong)v);
        }
        return l;
    }

    /// <summary>…_get_supported_sector_size(select): UINT_MAX when none is selected.</summary>
    public uint Selected => Select >= 0 && Select < Supported.Count ? (uint)Supported[Select] : uint.MaxValue;
}

/// <summary>struct ndctl_namespace (add_namespace) and its enable/disable/delete operations over sysfs.</summary>
internal sealed class NdNamespace
{
    public const int ND_DEVICE_NAMESPACE_IO = 4, ND_DEVICE_NAMESPACE_PMEM = 5, ND_DEVICE_NAMESPACE_BLK = 6;

    public required NdRegion Region { get; init; }
    public int Id { get; init; }
    public required string Path { get; init; }
    public int Type { get; init; }
    public ulong Size { get; set; }
    public ulong Resource { get; set; }
    public long NumaNode { get; init; }
    public long TargetNode { get; init; }
    public LbaSize LbaSize { get; set; } = new();
    public string AltName { get; set; } = "";
    public string Uuid { get; set; } = NullUuid;

    public const string NullUuid = "00000000-0000-0000-0000-000000000000";

    NdCtx Ctx => Region.Bus.Ctx;

    public string Devname => NdCtx.Devname(Path);

    /// <summary>add_namespace: nstype, size, resource, force_raw, numa/target node, then sector_size, alt_name and uuid for pmem.</summary>
    public static NdNamespace? Add(NdRegion region, int id, string nsBase)
    {
        var ctx = region.Bus.Ctx;
        var type = ctx.Attr(NdStrings.Path(nsBase, "nstype"));
        var size = ctx.Attr(NdStrings.Path(nsBase, "size"));
        if (type == null || size == null || ctx.Attr(NdStrings.Path(nsBase, "force_raw")) == null) return null;
        var ns = new NdNamespace
        {
            Region = region, Id = id, Path = nsBase, Type = (int)CStr.ToULong(type), Size = CStr.ToULong(size),
            Resource = ctx.AttrU(NdStrings.Path(nsBase, "resource"), ulong.MaxValue), NumaNode = ctx.AttrL(NdStrings.Path(nsBase, "numa_node"), -1),
            TargetNode = ctx.AttrL(NdStrings.Path(nsBase, "target_node"), -1),
        };
        if (ns.Type is ND_DEVICE_NAMESPACE_PMEM or ND_DEVICE_NAMESPACE_BLK)
        {
            ns.LbaSize = LbaSize.Parse(ctx.Attr(NdStrings.Path(nsBase, "sector_size")) ?? "");
            var alt = ctx.Attr(NdStrings.Path(nsBase, "alt_name"));
            var uuid = ctx.Attr(NdStrings.Path(nsBase, "uuid"));
            if (alt == null || uuid == null) return null;
            ns.AltName = alt;
            if (uuid.Length > 0) ns.Uuid = uuid;
        }
        return ctx.Attr(NdStrings.Path(nsBase, "modalias")) == null ? null : ns;
    }

    /// <summary>The "holder" attribute (the claiming btt/pfn/dax device), or null.</summary>
    private string? Holder => Ctx.Attr(NdStrings.Path(Path, "holder"));

    /// <summary>ndctl_namespace_get_btt.</summary>
    public NdBtt? Btt => Holder is { } h ? ByDevname(Region.Btts, h) : null;

    /// <summary>ndctl_namespace_get_pfn.</summary>
    public NdPfn? Pfn => Holder is { } h ? ByDevname(Region.Pfns, h) : null;

    /// <summary>ndctl_namespace_get_dax.</summary>
    public NdPfn? Dax => Holder is { } h ? ByDevname(Region.Daxs, h) : null;

    /// <summary>The first claim device in <paramref name="list"/> named <paramref name="devname"/> (a loop: no closure per call).</summary>
    private static T? ByDevname<T>(List<T> list, string devname) where T : NdClaimDev
    {
        foreach (var d in list)
            if (d.Devname == devname) return d;
        return null;
    }

    /// <summary>ndctl_namespace_get_mode: the "mode" attribute (memory, dax, raw, safe), −ENXIO otherwise.</summary>
    public NsMode? Mode => Ctx.Attr(NdStrings.Path(Path, "mode")) switch
    {
        "memory" => NsMode.Fsdax,
        "dax" => NsMode.Devdax,
        "raw" => NsMode.Raw,
        "safe" => NsMode.Sector,
        _ => null,
    };

    /// <summary>ndctl_namespace_get_sector_size.</summary>
    public uint SectorSize => LbaSize.Selected;

    /// <summary>ndctl_namespace_is_enabled.</summary>
    public bool IsEnabled => Ctx.IsEnabled(Region.Bus, NdStrings.Path(Path, "driver"));

    /// <summary>ndctl_namespace_is_active: the claim device is enabled, or (unclaimed) the namespace itself.</summary>
    public bool IsActive
    {
        get
        {
            var btt = Btt;
            var pfn = Pfn;
            var dax = Dax;
            return btt != null && btt.IsEnabled || pfn != null && pfn.IsEnabled || dax != null && dax.IsEnabled
                || btt == null && pfn == null && dax == null && IsEnabled;
        }
    }

    /// <summary>ndctl_namespace_get_block_device: the single entry of "block/", or "".</summary>
    public string BlockDevice => NdPfn.GetBlockDevice(Ctx, Region.Bus, NdStrings.Path(Path, "block"));

    /// <summary>
    /// ndctl_namespace_enable: bind; then refresh the region's children. 0 when bound, 1 when a claim device holds it
    /// enabled, else "failed to enable" and the bind error or −ENXIO.
    /// </summary>
    public int Enable()
    {
        if (IsEnabled) return 0;
        var rc = Ctx.Bind(Devname);
        Region.RefreshChildren();
        if (IsEnabled) return 0;
        if (Btt is { IsEnabled: true } || Pfn is { IsEnabled: true } || Dax is { IsEnabled: true }) return 1;
        Ctx.Io.LibErr("ndctl_namespace_enable", $"{Devname}: failed to enable\n");
        return rc != 0 ? rc : -Errno.ENXIO;
    }

    /// <summary>ndctl_namespace_disable: unbind; −EBUSY ("failed to disable") when still bound.</summary>
    public int Disable()
    {
        if (!IsEnabled) return 0;
        Ctx.Unbind(Path);
        if (IsEnabled)
        {
            Ctx.Io.LibErr("ndctl_namespace_disable", $"{Devname}: failed to disable\n");
            return -Errno.EBUSY;
        }
        return 0;
    }

    /// <summary>ndctl_namespace_disable_invalidate: delete the claim device (unbind, clear its namespace), then disable.</summary>
    public int DisableInvalidate()
    {
        var rc = 0;
        if (Btt is { } btt) rc = btt.Delete();
        if (Pfn is { } pfn) rc = pfn.Delete();
        if (Dax is { } dax) rc = dax.Delete();
        return rc != 0 ? rc : Disable();
    }

    /// <summary>
    /// ndctl_namespace_disable_safe: with a block device, open it O_EXCL first (a mounted filesystem makes that
    /// fail, and the errno is returned); otherwise disable_invalidate.
    /// </summary>
    public int DisableSafe()
    {
        string? bdev = null;
        if (Pfn is { IsEnabled: true } pfn) bdev = pfn.BlockDevice;
        else if (Btt is { IsEnabled: true } btt) bdev = btt.BlockDevice;
        else if (Dax is { IsEnabled: true }) bdev = null;
        else if (IsEnabled) bdev = BlockDevice;
        if (!string.IsNullOrEmpty(bdev))
        {
            var fd = Ctx.Io.P.Open("/dev/" + bdev, Fcntl.O_RDWR | Fcntl.O_EXCL);
            if (fd < 0)
            {
                Ctx.Io.LibErr("ndctl_namespace_disable_safe", $"{Devname}: {bdev} failed exclusive open: {NdctlIo.StrError((int)-fd)}\n");
                return (int)fd;
            }
            DisableInvalidate();
            Ctx.Io.P.Close((int)fd);
            return 0;
        }
        DisableInvalidate();
        return 0;
    }

    /// <summary>ndctl_namespace_is_configured: io namespaces always; pmem ones with size ≥ 4 MiB and a uuid.</summary>
    public bool IsConfigured => Type switch
    {
        ND_DEVICE_NAMESPACE_IO => true,
        ND_DEVICE_NAMESPACE_PMEM => Size >= 0x400000 && Uuid != NullUuid,
        _ => false,
    };

    /// <summary>ndctl_namespace_is_configuration_idle.</summary>
    public bool IsConfigurationIdle => !IsActive && (!IsConfigured || Type == ND_DEVICE_NAMESPACE_IO);

    /// <summary>ndctl_namespace_set_raw_mode: write "1\n"/"0\n" to force_raw.</summary>
    public int SetRawMode(bool raw) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "force_raw"), raw ? "1\n" : "0\n");

    /// <summary>ndctl_namespace_set_enforce_mode: holder_class "pfn", "btt", "" or "dax".</summary>
    public int SetEnforceMode(NsMode m) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "holder_class"), m switch
    {
        NsMode.Fsdax => "pfn",
        NsMode.Sector => "btt",
        NsMode.Devdax => "dax",
        _ => "",
    });

    /// <summary>ndctl_namespace_set_uuid.</summary>
    public int SetUuid(string uuid)
    {
        var rc = Ctx.Io.WriteAttr(NdStrings.Path(Path, "uuid"), uuid);
        if (rc == 0) Uuid = uuid;
        return rc;
    }

    /// <summary>ndctl_namespace_set_alt_name.</summary>
    public int SetAltName(string name)
    {
        var rc = Ctx.Io.WriteAttr(NdStrings.Path(Path, "alt_name"), name);
        if (rc == 0) AltName = name;
        return rc;
    }

    /// <summary>ndctl_namespace_set_size (pmem/blk only; −EBUSY while enabled): "%#llx\n" to size, then re-read resource.</summary>
    public int SetSize(ulong size)
    {
        if (size == 0) return -Errno.EINVAL;
        if (IsEnabled) return -Errno.EBUSY;
        if (Type is not (ND_DEVICE_NAMESPACE_PMEM or ND_DEVICE_NAMESPACE_BLK)) return -Errno.ENXIO;
        return WriteSize(size);
    }

    private int WriteSize(ulong size)
    {
        var rc = Ctx.Io.WriteAttr(NdStrings.Path(Path, "size"), size == 0 ? "0\n" : string.Create(CultureInfo.InvariantCulture, $"0x{size:x}\n"));
        if (rc < 0) return rc;
        Size = size;
        Resource = Ctx.AttrU(NdStrings.Path(Path, "resource"), ulong.MaxValue);
        return 0;
    }

    /// <summary>ndctl_namespace_set_sector_size: "%d\n" to sector_size.</summary>
    public int SetSectorSize(ulong s)
    {
        var rc = Ctx.Io.WriteAttr(NdStrings.Path(Path, "sector_size"), string.Create(CultureInfo.InvariantCulture, $"{s}\n"));
        if (rc == 0) LbaSize.Select = LbaSize.Supported.IndexOf(s);
        return rc;
    }

    /// <summary>ndctl_namespace_delete: −EBUSY while enabled; pmem/blk namespaces get size 0 (−ENXIO ignored).</summary>
    public int Delete()
    {
        if (IsEnabled) return -Errno.EBUSY;
        if (Type is not (ND_DEVICE_NAMESPACE_PMEM or ND_DEVICE_NAMESPACE_BLK)) return 0;
        var rc = WriteSize(0);
        if (rc != 0 && rc != -Errno.ENXIO) return rc;
        Region.RefreshChildren();
        return 0;
    }

    /// <summary>ndctl_namespace_get_first_badblock: /sys/block/&lt;bdev&gt;/badblocks of the namespace (raw) or its pfn device.</summary>
    public List<(ulong Offset, uint Len)> Badblocks()
    {
        if (Btt != null || Dax != null) return [];
        var bdev = Pfn is { } pfn ? pfn.BlockDevice : BlockDevice;
        return ParseBadblocks(Ctx.Attr(NdStrings.Path(NdStrings.Path("/sys/block", bdev), "badblocks")));
    }

    /// <summary>badblocks_iter_next: sscanf("%llu %u") per line until one does not parse.</summary>
    internal static List<(ulong, uint)> ParseBadblocks(string? text)
    {
        var list = new List<(ulong, uint)>();
        if (text == null) return list;
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2 || !ulong.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var o)
                || !uint.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var l)) break;
            list.Add((o, l));
        }
        return list;
    }
}

/// <summary>
/// What struct ndctl_pfn, ndctl_dax and ndctl_btt share in libndctl.c: the claim device's path, its namespace link,
/// enabled state, block device, and the enable (bind) / delete (unbind and release) sequences.
/// </summary>
internal abstract class NdClaimDev
{
    public required NdRegion Region { get; init; }
    public int Id { get; init; }
    public required string Path { get; init; }

    protected NdCtx Ctx => Region.Bus.Ctx;

    public string Devname => NdCtx.Devname(Path);

    /// <summary>The libndctl function named in the "failed to enable" message.</summary>
    protected abstract string EnableFn { get; }

    /// <summary>ndctl_{pfn,dax,btt}_get_namespace: the namespace named by the "namespace" attribute.</summary>
    public NdNamespace? Namespace => Ctx.Attr(NdStrings.Path(Path, "namespace")) is { } n ? Region.Namespaces.Find(x => x.Devname == n) : null;

    /// <summary>ndctl_{pfn,dax,btt}_is_enabled.</summary>
    public bool IsEnabled => Ctx.IsEnabled(Region.Bus, NdStrings.Path(Path, "driver"));

    /// <summary>ndctl_{pfn,btt}_get_block_device.</summary>
    public string BlockDevice => NdPfn.GetBlockDevice(Ctx, Region.Bus, NdStrings.Path(Path, "block"));

    /// <summary>ndctl_{pfn,dax,btt}_set_namespace: the namespace name, or "\n" to release it.</summary>
    public int SetNamespace(NdNamespace? ns) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "namespace"), ns?.Devname ?? "\n");

    /// <summary>ndctl_{pfn,dax,btt}_enable: bind; "failed to enable" and −ENXIO when it stays unbound.</summary>
    public int Enable()
    {
        if (IsEnabled) return 0;
        Ctx.Bind(Devname);
        if (!IsEnabled)
        {
            Ctx.Io.LibErr(EnableFn, $"{Devname}: failed to enable\n");
            return -Errno.ENXIO;
        }
        Region.RefreshChildren();
        return 0;
    }

    /// <summary>ndctl_{pfn,dax,btt}_delete: unbind, then clear the namespace link.</summary>
    public int Delete()
    {
        Ctx.Unbind(Path);
        var rc = SetNamespace(null);
        if (rc != 0) return rc;
        Region.RefreshChildren();
        return 0;
    }
}

/// <summary>struct ndctl_pfn, also the embedded pfn of struct ndctl_dax (__add_pfn): a claim device with a memmap location.</summary>
internal sealed class NdPfn : NdClaimDev
{
    public bool IsDax { get; init; }
    public string Uuid { get; set; } = NdNamespace.NullUuid;

    /// <summary>The "mode" attribute: none, ram, pmem.</summary>
    public string Location { get; set; } = "none";
    public ulong Align { get; init; }
    public ulong Resource { get; init; }
    public ulong Size { get; init; }
    public LbaSize Alignments { get; init; } = new();

    /// <summary>__add_pfn: modalias, uuid, mode (none/ram/pmem), align, resource, size, supported_alignments (default "4096 2097152 ").</summary>
    public static NdPfn? Add(NdRegion region, int id, string pfnBase, bool dax)
    {
        var ctx = region.Bus.Ctx;
        var uuid = ctx.Attr(NdStrings.Path(pfnBase, "uuid"));
        var mode = ctx.Attr(NdStrings.Path(pfnBase, "mode"));
        if (ctx.Attr(NdStrings.Path(pfnBase, "modalias")) == null || uuid == null || mode is not ("none" or "ram" or "pmem")) return null;
        return new NdPfn
        {
            Region = region, Id = id, Path = pfnBase, IsDax = dax, Uuid = uuid.Length > 0 ? uuid : NdNamespace.NullUuid, Location = mode,
            Align = ctx.AttrU(NdStrings.Path(pfnBase, "align"), 0), Resource = ctx.AttrU(NdStrings.Path(pfnBase, "resource"), ulong.MaxValue),
            Size = ctx.AttrU(NdStrings.Path(pfnBase, "size"), ulong.MaxValue),
            Alignments = LbaSize.Parse(ctx.Attr(NdStrings.Path(pfnBase, "supported_alignments")) ?? "4096 2097152", terminated: true),
        };
    }

    /// <summary>get_block_device: the one entry of a "block" directory ("" when none or more than one).</summary>
    internal static string GetBlockDevice(NdCtx ctx, NdBus bus, string blockPath)
    {
        bus.WaitProbe();
        var names = ctx.Io.ReadDir(blockPath);
        return names is { Count: 1 } ? names[0] : "";
    }

    /// <summary>ndctl_pfn_has_align: stat("align") succeeds.</summary>
    public bool HasAlign => Ctx.Attr(NdStrings.Path(Path, "align")) != null;

    public int SetUuid(string uuid) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "uuid"), uuid);

    /// <summary>ndctl_pfn_set_location: "none", "ram" or "pmem" to mode.</summary>
    public int SetLocation(string loc) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "mode"), loc);

    /// <summary>ndctl_pfn_set_align: "%lu" to align.</summary>
    public int SetAlign(ulong align) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "align"), align.ToString(CultureInfo.InvariantCulture));

    /// <inheritdoc/>
    protected override string EnableFn => IsDax ? "ndctl_dax_enable" : "ndctl_pfn_enable";

    /// <summary>
    /// The device-dax device under an enabled dax claim (libdaxctl's devices_init: the "dax%d.%d" child device of the
    /// claim, next to its dax_region attributes), or null.
    /// </summary>
    public string? DaxChardev
    {
        get
        {
            if (Ctx.Attr(NdStrings.Path(Path, "dax_region/id")) == null) return null;
            var names = Ctx.Io.ReadDir(Path);
            return names?.Find(n => System.Text.RegularExpressions.Regex.IsMatch(n, @"^dax\d+\.\d+$"));
        }
    }
}

/// <summary>struct ndctl_btt (add_btt): a sector-mode claim device.</summary>
internal sealed class NdBtt : NdClaimDev
{
    public string Uuid { get; init; } = NdNamespace.NullUuid;
    public LbaSize LbaSize { get; init; } = new();
    public ulong Size { get; init; }

    /// <summary>add_btt: modalias, uuid, sector_size (required), size.</summary>
    public static NdBtt? Add(NdRegion region, int id, string bttBase)
    {
        var ctx = region.Bus.Ctx;
        var uuid = ctx.Attr(NdStrings.Path(bttBase, "uuid"));
        var ss = ctx.Attr(NdStrings.Path(bttBase, "sector_size"));
        if (ctx.Attr(NdStrings.Path(bttBase, "modalias")) == null || uuid == null || ss == null) return null;
        return new NdBtt
        {
            Region = region, Id = id, Path = bttBase, Uuid = uuid.Length > 0 ? uuid : NdNamespace.NullUuid,
            LbaSize = LbaSize.Parse(ss), Size = ctx.AttrU(NdStrings.Path(bttBase, "size"), ulong.MaxValue),
        };
    }

    public uint SectorSize => LbaSize.Selected;

    public int SetUuid(string uuid) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "uuid"), uuid);

    public int SetSectorSize(ulong s) => Ctx.Io.WriteAttr(NdStrings.Path(Path, "sector_size"), string.Create(CultureInfo.InvariantCulture, $"{s}\n"));

    /// <inheritdoc/>
    protected override string EnableFn => "ndctl_btt_enable";
}
