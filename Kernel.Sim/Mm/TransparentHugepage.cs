using System.Globalization;
using KernelSim.Fs.Kernfs;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>
/// The transparent-hugepage settings (mm/huge_memory.c transparent_hugepage_flags, mm/khugepaged.c, mm/shmem.c
/// shmem_huge) and their files under /sys/kernel/mm/transparent_hugepage (hugepage_attr_group), with the kernel's
/// formats ("[always] madvise never"), defaults (CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS, defrag madvise, shmem never) and
/// write rules. The simulator has no anonymous huge pages, khugepaged or shmem THP: the files keep and show what is
/// written, and smaps' THPeligible reads <see cref="Enabled"/>; nothing else is steered (docs/mm.md "Not modelled").
/// A singleton of the machine's container and an <see cref="ISysfsContributor"/>.
/// </summary>
public sealed class TransparentHugepage(KernelProfile profile) : ISysfsContributor
{
    private static readonly string[] EnabledWords = ["always", "madvise", "never"];
    private static readonly string[] DefragWords = ["always", "defer", "defer+madvise", "madvise", "never"];
    // defrag_store tests "defer+madvise" before "defer" (what made the old prefix match pick it for "defer").
    private static readonly string[] DefragStoreOrder = ["always", "defer+madvise", "defer", "madvise", "never"];
    private static readonly string[] ShmemWords = ["always", "within_size", "advise", "never", "deny", "force"];
    private static readonly string[] PerSizeWords = ["always", "inherit", "madvise", "never"];

    /// <summary>enabled: "always", "madvise" or "never".</summary>
    public string Enabled { get; private set; } = "always";

    /// <summary>defrag: "always", "defer", "defer+madvise", "madvise" or "never".</summary>
    public string Defrag { get; private set; } = "madvise";

    /// <summary>shmem_enabled (shmem_huge): "always", "within_size", "advise", "never", "deny" or "force".</summary>
    public string ShmemEnabled { get; private set; } = "never";

    /// <summary>use_zero_page (TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG).</summary>
    public bool UseZeroPage { get; private set; } = true;

    private readonly Dictionary<string, ulong> _khugepaged = new(StringComparer.Ordinal)
    {
        ["defrag"] = 1,
        ["pages_to_scan"] = 4096,
        ["scan_sleep_millisecs"] = 10000,
        ["alloc_sleep_millisecs"] = 60000,
        ["pages_collapsed"] = 0,
        ["full_scans"] = 0,
        ["max_ptes_none"] = 511,
        ["max_ptes_swap"] = 64,
        ["max_ptes_shared"] = 256,
    };

    private readonly Dictionary<int, string> _perSize = [];

    /// <summary>hugepage_init_sysfs: build /sys/kernel/mm/transparent_hugepage when sysfs is mounted.</summary>
    public void Populate(Sysfs sysfs) => Register(sysfs, this);

    private static void Register(Sysfs sysfs, TransparentHugepage thp)
    {
        var d = sysfs.Root.Dir("kernel/mm/transparent_hugepage");
        // Each attribute gets thp (and its key) as an argument: static show/store, no closure per attribute per machine.
        d.Attr("enabled", 0x1a4, thp, static t => Bracket(EnabledWords, t.Enabled), static (t, s) => t.Store(s, EnabledWords, v => t.Enabled = v));
        d.Attr("defrag", 0x1a4, thp, static t => Bracket(DefragWords, t.Defrag), static (t, s) => t.Store(s, DefragStoreOrder, v => t.Defrag = v));
        d.Attr("use_zero_page", 0x1a4, thp, static t => t.UseZeroPage ? "1\n" : "0\n", static (t, s) => StoreFlag(s, v => t.UseZeroPage = v));
        d.Attr("hpage_pmd_size", 0x124, static () => $"{PageDefs.PMD_SIZE}\n");
        d.Attr("shmem_enabled", 0x1a4, thp, static t => Bracket(ShmemWords, t.ShmemEnabled), static (t, s) => t.StoreShmem(s));
        var k = d.Dir("khugepaged");
        foreach (var name in thp._khugepaged.Keys.ToArray())
        {
            if (name == "max_ptes_shared" && thp._profile.Version < KernelVersion.V(5, 8)) continue; // 71a2c112a0f6 (5.8)
            var ro = name is "pages_collapsed" or "full_scans";
            k.Attr(name, ro ? 0x124 : 0x1a4, (thp, name), static o => o.thp._khugepaged[o.name].ToString(CultureInfo.InvariantCulture) + "\n",
                ro ? null : static (o, s) => o.thp.StoreKhugepaged(o.name, s));
        }
        if (!thp._profile.ThpPerSizeEnabled) return;
        // 6.8+: one directory per anonymous mTHP size (orders 2 … PMD_ORDER on x86-64); the PMD size inherits by default.
        for (var order = 2; order <= PageDefs.PMD_SHIFT - PageDefs.PAGE_SHIFT; order++)
        {
            var kb = 4 << order;
            thp._perSize[kb] = order == PageDefs.PMD_SHIFT - PageDefs.PAGE_SHIFT ? "inherit" : "never";
            d.Dir($"hugepages-{kb}kB").Attr("enabled", 0x1a4, (thp, size: kb), static o => Bracket(PerSizeWords, o.thp._perSize[o.size]),
                static (o, s) => o.thp.Store(s, PerSizeWords, v => o.thp._perSize[o.size] = v, strict: true));
        }
    }

    private readonly KernelProfile _profile = profile;

    /// <summary>The words with the current one in brackets, space-separated, and a newline.</summary>
    private static string Bracket(string[] words, string current) =>
        string.Join(' ', words.Select(w => w == current ? $"[{w}]" : w)) + "\n";

    /// <summary>
    /// enabled_store / defrag_store: sysfs_streq (a trailing newline allowed) from 5.6; before, memcmp over
    /// min(strlen(word), count) bytes in the kernel's order, so a prefix of a word ("madv") or a word followed by
    /// anything selects it. Unknown → −EINVAL; else the byte count.
    /// </summary>
    private long Store(string text, string[] words, Action<string> set, bool strict = false)
    {
        foreach (var w in words)
        {
            bool match;
            if (strict || _profile.ThpSysfsStreq) match = SysfsStreq(text, w);
            else
            {
                var n = Math.Min(w.Length, text.Length);
                match = string.CompareOrdinal(w, 0, text, 0, n) == 0;
            }
            if (!match) continue;
            set(w);
            return text.Length;
        }
        return -Errno.EINVAL;
    }

    /// <summary>sysfs_streq: equal, or equal up to one trailing newline of either string.</summary>
    private static bool SysfsStreq(string s, string word) => s == word || s == word + "\n";

    /// <summary>shmem_enabled_store: the word (one trailing newline dropped) must be one of the values (−EINVAL); at most 15 bytes.</summary>
    private long StoreShmem(string text)
    {
        if (text.Length + 1 > 16) return -Errno.EINVAL;
        var t = text.EndsWith('\n') ? text[..^1] : text;
        if (Array.IndexOf(ShmemWords, t) < 0) return -Errno.EINVAL;
        ShmemEnabled = t;
        return text.Length;
    }

    /// <summary>single_hugepage_flag_store: kstrtoul base 10, values 0 or 1 (else −EINVAL).</summary>
    private static long StoreFlag(string text, Action<bool> set)
    {
        if (!KstrToUlong(text, out var v) || v > 1) return -Errno.EINVAL;
        set(v == 1);
        return text.Length;
    }

    /// <summary>The khugepaged tunables: kstrtoul/kstrtouint; pages_to_scan &gt; 0, max_ptes_* ≤ HPAGE_PMD_NR − 1 (−EINVAL otherwise).</summary>
    private long StoreKhugepaged(string name, string text)
    {
        if (!KstrToUlong(text, out var v)) return -Errno.EINVAL;
        var ok = name switch
        {
            "defrag" => v <= 1,
            "pages_to_scan" => v > 0 && v <= uint.MaxValue,
            "max_ptes_none" or "max_ptes_swap" or "max_ptes_shared" => v <= 511,
            _ => v <= uint.MaxValue,
        };
        if (!ok) return -Errno.EINVAL;
        _khugepaged[name] = v;
        return text.Length;
    }

    /// <summary>kstrtoul(s, 10): decimal digits with at most one trailing newline.</summary>
    private static bool KstrToUlong(string s, out ulong v)
    {
        var t = s.EndsWith('\n') ? s[..^1] : s;
        return ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
    }
}
