using System.Globalization;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// mm/hwpoison-inject.c: /sys/kernel/debug/hwpoison/corrupt-pfn and unpoison-pfn (mode 0200, DEFINE_DEBUGFS_ATTRIBUTE
/// with no get: a read gives −EACCES). A write is parsed by simple_attr_write (kstrtoull base 0: decimal, 0x hex or
/// leading-0 octal, one trailing newline; −EINVAL otherwise), then: CAP_SYS_ADMIN or −EPERM; corrupt-pfn: −ENXIO
/// for an invalid pfn, "Injecting memory failure at pfn …" and memory_failure(pfn, MF_SW_SIMULATED) (−EOPNOTSUPP
/// becomes 0); unpoison-pfn: unpoison_memory(pfn). The whole write is consumed on success.
/// </summary>
public static class HwpoisonInject
{
    internal static void Register(Debugfs debugfs)
    {
        var m = debugfs.Machine;
        var dir = debugfs.Root.Dir("hwpoison");
        dir.Add(new KernfsAttribute("corrupt-pfn", 0x80, () => ShowResult.Fail(-Errno.EACCES), text => Store(text, v =>
        {
            if (m.Current is { CapSysAdmin: false }) return -Errno.EPERM;
            if (m.Phys.FindRange(PhysAddr.FromPfn(v)) == null) return -Errno.ENXIO;
            m.State.Printk($"Injecting memory failure at pfn 0x{v:x}");
            var err = m.MemoryFailure.Run(v, MfFlags.MF_SW_SIMULATED);
            return err == -Errno.EOPNOTSUPP ? 0 : err;
        })));
        dir.Add(new KernfsAttribute("unpoison-pfn", 0x80, () => ShowResult.Fail(-Errno.EACCES), text => Store(text, v =>
        {
            if (m.Current is { CapSysAdmin: false }) return -Errno.EPERM;
            return m.MemoryFailure.UnpoisonMemory(v);
        })));
    }

    private static long Store(string text, Func<ulong, int> set)
    {
        if (!ParseU64(text.Length > 23 ? text[..23] : text, out var v)) return -Errno.EINVAL;
        var r = set(v);
        return r < 0 ? r : text.Length;
    }

    /// <summary>kstrtoull(s, 0, &amp;v): the whole string (one trailing '\n' allowed) in base 16 (0x), 8 (leading 0) or 10.</summary>
    internal static bool ParseU64(string s, out ulong v)
    {
        v = 0;
        if (s.EndsWith('\n')) s = s[..^1];
        if (s.Length == 0) return false;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return s.Length > 2 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v);
        if (s.Length > 1 && s[0] == '0')
        {
            foreach (var c in s.AsSpan(1))
            {
                if (c is < '0' or > '7') return false;
                var next = unchecked(v * 8 + (ulong)(c - '0'));
                if (next / 8 != v) return false;
                v = next;
            }
            return true;
        }
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
    }
}
