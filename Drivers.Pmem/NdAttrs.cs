using System.Globalization;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The store side of the libnvdimm sysfs attributes (namespace_devs.c, pfn_devs.c, btt_devs.c, claim.c, region_devs.c):
/// each takes the written text and returns the byte count or −errno, as the kernel's _store methods do.
/// </summary>
public sealed partial class NvdimmBus
{
    /// <summary>kstrtoull(buf, 0): decimal, 0x hex or 0 octal, one trailing newline allowed; −EINVAL otherwise (−ERANGE on overflow).</summary>
    internal static int KstrToUll(string buf, out ulong v)
    {
        v = 0;
        var s = buf.EndsWith('\n') ? buf[..^1] : buf;
        if (s.StartsWith('+')) s = s[1..];
        if (s.Length == 0) return -Errno.EINVAL;
        try
        {
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.Length > 2)
                return ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v) && !s[2..].Contains('+') ? 0 : -Errno.EINVAL;
            if (s.Length > 1 && s[0] == '0')
            {
                foreach (var ch in s[1..]) { if (ch is < '0' or > '7') return -Errno.EINVAL; v = checked(v * 8 + (ulong)(ch - '0')); }
                return 0;
            }
            foreach (var ch in s) { if (ch is < '0' or > '9') return -Errno.EINVAL; v = checked(v * 10 + (ulong)(ch - '0')); }
            return 0;
        }
        catch (OverflowException)
        {
            return -Errno.ERANGE;
        }
    }

    /// <summary>kstrtobool: 1/y/Y/t/T/on → true, 0/n/N/f/F/off → false, else −EINVAL.</summary>
    internal static int KstrToBool(string buf, out bool v)
    {
        v = false;
        var s = buf.TrimEnd('\n');
        if (s.Length == 0) return -Errno.EINVAL;
        switch (s[0])
        {
            case 'y' or 'Y' or 't' or 'T' or '1': v = true; return 0;
            case 'n' or 'N' or 'f' or 'F' or '0': return 0;
            case 'o' or 'O' when s.Length > 1 && s[1] is 'n' or 'N': v = true; return 0;
            case 'o' or 'O' when s.Length > 1 && s[1] is 'f' or 'F': return 0;
            default: return -Errno.EINVAL;
        }
    }

    /// <summary>nd_uuid_parse: 16 hex pairs, each optionally followed by '-', ':', '\n' or NUL; −EINVAL otherwise.</summary>
    internal static int UuidParse(string buf, out byte[] uuid)
    {
        uuid = new byte[16];
        var p = 0;
        for (var i = 0; i < 16; i++)
        {
            if (p + 1 >= buf.Length || !Uri.IsHexDigit(buf[p]) || !Uri.IsHexDigit(buf[p + 1])) return -Errno.EINVAL;
            uuid[i] = (byte)(Convert.ToInt32(buf.Substring(p, 2), 16));
            p += 2;
            if (p < buf.Length && buf[p] is '\n' or '-' or ':' or '\0') p++;
        }
        return 0;
    }

    /// <summary>%pUb: the 16 bytes in order as 8-4-4-4-12 lower-case hex.</summary>
    public static string UuidText(byte[] u)
    {
        var h = Convert.ToHexString(u).ToLowerInvariant();
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}";
    }

    private bool UuidBusy(byte[] uuid, NdDevice self)
    {
        foreach (var r in _regions)
        {
            foreach (var n in r._nsDevs) if (n != self && n.Uuid != null && n.Uuid.AsSpan().SequenceEqual(uuid)) return true;
            foreach (var c in r._claims) if (c != self && c.Uuid != null && c.Uuid.AsSpan().SequenceEqual(uuid)) return true;
        }
        return false;
    }

    /// <summary>nd_namespace_label_update: write (or with size 0 delete) the namespace's label; nothing without a uuid.</summary>
    private static void LabelUpdate(NdNamespace ns)
    {
        var r = ns.Region;
        r.Labels.RemoveAll(l => ns.Uuid != null && l.Uuid.AsSpan().SequenceEqual(ns.Uuid));
        if (ns.Uuid == null || ns.Size == 0) return;
        r.Labels.Add(new NdLabel((byte[])ns.Uuid.Clone(), ns.AltName, ns.Start - r.Start, ns.Size, ns.LbaSize));
    }

    /// <summary>
    /// size_store / __size_store (nd_namespace_pmem): −EBUSY when bound or claimed, −ENXIO without a uuid ("uuid not
    /// set"), −EINVAL unless a multiple of the region align, −ENOSPC beyond the largest free extent plus the current
    /// allocation; the allocation is placed at the lowest free extent that fits (or kept where it is); the label is
    /// updated; size 0 forgets the uuid and unregisters (asynchronously) a namespace that is not id 0 or the seed.
    /// </summary>
    public long NamespaceSizeStore(NdNamespace ns, string buf)
    {
        var rc = KstrToUll(buf, out var val);
        if (rc < 0) return rc;
        if (ns.IsIo) return -Errno.EACCES;
        if (ns.Driver != null || ns.Claim != null) return -Errno.EBUSY;
        if (ns.Uuid == null)
        {
            Machine.State.Printk($"nd {ns.Name}: __size_store: uuid not set");
            return -Errno.ENXIO;
        }
        var r = ns.Region;
        if (val % r.Align != 0) return -Errno.EINVAL;
        if (val != ns.Size)
        {
            var oldStart = ns.Start;
            var oldSize = ns.Size;
            ns.Size = 0;
            var fit = r.FreeExtents().Where(e => e.Size >= val).Select(e => (ulong?)e.Start).FirstOrDefault();
            var grow = oldSize != 0 && r.FreeExtents().Any(e => e.Start <= oldStart - r.Start && e.Start + e.Size >= oldStart - r.Start + val);
            if (val > 0 && !grow && fit == null)
            {
                ns.Size = oldSize;
                return -Errno.ENOSPC;
            }
            ns.Start = val == 0 ? r.Start : grow ? oldStart : r.Start + fit!.Value;
            ns.Size = val;
            ns.Io = null;
        }
        LabelUpdate(ns);
        if (val == 0)
        {
            ns.Uuid = null;
            if (ns.Id != 0 && r.NsSeed != ns && ns.Claim == null) UnregisterAsync(ns);
        }
        return buf.Length;
    }

    /// <summary>uuid_store (namespace): −EBUSY when claimed or bound, −EINVAL for a malformed or busy uuid (nd_is_uuid_unique), then the label update.</summary>
    public long NamespaceUuidStore(NdNamespace ns, string buf)
    {
        if (ns.IsIo) return -Errno.ENXIO;
        if (ns.Claim != null || ns.Driver != null) return -Errno.EBUSY;
        var rc = UuidParse(buf, out var uuid);
        if (rc < 0) return rc;
        if (UuidBusy(uuid, ns)) return -Errno.EINVAL;
        ns.Region.Labels.RemoveAll(l => ns.Uuid != null && l.Uuid.AsSpan().SequenceEqual(ns.Uuid));
        ns.Uuid = uuid;
        LabelUpdate(ns);
        return buf.Length;
    }

    /// <summary>alt_name_store: −EBUSY when bound or claimed, −EINVAL for 64 bytes or more after strim (NSLABEL_NAME_LEN).</summary>
    public long NamespaceAltNameStore(NdNamespace ns, string buf)
    {
        if (ns.IsIo) return -Errno.ENXIO;
        if (ns.Driver != null || ns.Claim != null) return -Errno.EBUSY;
        var name = buf.Trim();
        if (name.Length + 1 > 64) return -Errno.EINVAL;
        ns.AltName = name;
        LabelUpdate(ns);
        return buf.Length;
    }

    /// <summary>sector_size_store (nd_namespace_pmem): −EBUSY when claimed or bound, −EINVAL unless 512 or 4096 (pmem_lbasize_supported).</summary>
    public long NamespaceSectorSizeStore(NdNamespace ns, string buf)
    {
        if (ns.IsIo) return -Errno.ENXIO;
        if (ns.Claim != null || ns.Driver != null) return -Errno.EBUSY;
        var rc = KstrToUll(buf, out var v);
        if (rc < 0) return rc;
        if (v is not (512 or 4096)) return -Errno.EINVAL;
        ns.LbaSize = (uint)v;
        LabelUpdate(ns);
        return buf.Length;
    }

    /// <summary>force_raw_store: kstrtobool, no other check (it takes effect at the next probe).</summary>
    public long NamespaceForceRawStore(NdNamespace ns, string buf)
    {
        var rc = KstrToBool(buf, out var v);
        if (rc < 0) return rc;
        ns.ForceRaw = v;
        return buf.Length;
    }

    /// <summary>holder_class_store: −EBUSY when bound or claimed; "btt", "pfn", "dax" or "" (sysfs_streq), else −EINVAL.</summary>
    public long NamespaceHolderClassStore(NdNamespace ns, string buf)
    {
        if (ns.Driver != null || ns.Claim != null) return -Errno.EBUSY;
        var v = buf.EndsWith('\n') ? buf[..^1] : buf;
        if (v is not ("btt" or "pfn" or "dax" or "")) return -Errno.EINVAL;
        ns.ClaimClass = v;
        return buf.Length;
    }

    /// <summary>pfn/dax mode_store: −EBUSY when bound; "pmem", "ram" or "none" compared over len − 1 bytes (the kernel's strncmp); else −EINVAL.</summary>
    public long ClaimModeStore(NdClaim c, string buf)
    {
        if (c.Driver != null) return -Errno.EBUSY;
        var n = buf.Length - 1;
        static bool Match(string buf, string word, int n) =>
            string.CompareOrdinal(buf, 0, word + "\n", 0, n) == 0 || string.CompareOrdinal(buf, 0, word, 0, n) == 0;
        if (Match(buf, "pmem", n)) c.Mode = NdPfnMode.PFN_MODE_PMEM;
        else if (Match(buf, "ram", n)) c.Mode = NdPfnMode.PFN_MODE_RAM;
        else if (Match(buf, "none", n)) c.Mode = NdPfnMode.PFN_MODE_NONE;
        else return -Errno.EINVAL;
        return buf.Length;
    }

    /// <summary>pfn/dax align_store (nd_size_select_store): −EBUSY when bound, −EINVAL unless one of the supported alignments.</summary>
    public long ClaimAlignStore(NdClaim c, string buf)
    {
        if (c.Driver != null) return -Errno.EBUSY;
        var rc = KstrToUll(buf, out var v);
        if (rc < 0) return rc;
        if (!SupportedAlignments.Contains(v)) return -Errno.EINVAL;
        c.Align = v;
        return buf.Length;
    }

    /// <summary>uuid_store of a claim device (nd_uuid_store): −EBUSY when bound, −EINVAL when malformed.</summary>
    public long ClaimUuidStore(NdClaim c, string buf)
    {
        if (c.Driver != null) return -Errno.EBUSY;
        var rc = UuidParse(buf, out var uuid);
        if (rc < 0) return rc;
        c.Uuid = uuid;
        return buf.Length;
    }

    /// <summary>btt sector_size_store: −EBUSY when bound, −EINVAL unless one of btt_lbasize_supported.</summary>
    public long ClaimSectorSizeStore(NdClaim c, string buf)
    {
        if (c.Driver != null) return -Errno.EBUSY;
        var rc = KstrToUll(buf, out var v);
        if (rc < 0) return rc;
        if (!BttLbaSizes.Contains(v)) return -Errno.EINVAL;
        c.LbaSize = (uint)v;
        return buf.Length;
    }

    /// <summary>btt_lbasize_supported: 512, 520, 528, 4096, 4104, 4160, 4224.</summary>
    public static readonly ulong[] BttLbaSizes = [512, 520, 528, 4096, 4104, 4160, 4224];

    /// <summary>
    /// nd_namespace_store (claim.c), the claim's namespace attribute: −EBUSY when the claim is bound; the name (strim) must
    /// start with "namespace" or be empty (−EINVAL); "" detaches and, for an idle device that is not its region's seed,
    /// unregisters it asynchronously (nd_detach_and_reset), otherwise resets uuid/mode/align; a second namespace → −EBUSY;
    /// unknown → −ENODEV; another claim class → −EBUSY; under 16 MiB → −ENXIO; already claimed → −EBUSY.
    /// </summary>
    public long ClaimNamespaceStore(NdClaim c, string buf)
    {
        if (c.Driver != null) return -Errno.EBUSY;
        var name = buf.Trim();
        if (!name.StartsWith("namespace", StringComparison.Ordinal) && name != "") return -Errno.EINVAL;
        if (name == "")
        {
            if (c.Ns != null && c.Ns.Claim == c) c.Ns.Claim = null;
            c.Ns = null;
            var r = c.Region;
            var seed = c.Kind switch { NdClaimKind.Pfn => r.PfnSeed, NdClaimKind.Dax => r.DaxSeed, _ => r.BttSeed };
            if (seed != c) UnregisterAsync(c);
            else
            {
                c.Uuid = null;
                c.Mode = NdPfnMode.PFN_MODE_NONE;
                c.Align = 2UL << 20;
                c.LbaSize = 0;
            }
            return buf.Length;
        }
        if (c.Ns != null) return -Errno.EBUSY;
        var ns = c.Region._nsDevs.FirstOrDefault(n => n.Name == name);
        if (ns == null) return -Errno.ENODEV;
        var want = c.Kind switch { NdClaimKind.Pfn => "pfn", NdClaimKind.Dax => "dax", _ => "btt" };
        if (ns.ClaimClass != "" && ns.ClaimClass != want) return -Errno.EBUSY;
        if (ns.Size < 16UL << 20) return -Errno.ENXIO;
        if (ns.Claim != null) return -Errno.EBUSY;
        ns.Claim = c;
        c.Ns = ns;
        return buf.Length;
    }

    /// <summary>read_only_store (region): kstrtobool.</summary>
    public long RegionReadOnlyStore(NdRegion r, string buf)
    {
        var rc = KstrToBool(buf, out var v);
        if (rc < 0) return rc;
        r.ReadOnly = v;
        return buf.Length;
    }
}
