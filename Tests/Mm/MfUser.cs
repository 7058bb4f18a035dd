using System.Buffers.Binary;
using System.Globalization;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// What the mm selftests' vm_util.c does, as system calls of one process: pagemap_get_entry / pagemap_get_pfn,
/// pageflags_get (/proc/kpageflags), get_hardware_corrupted_size (/proc/meminfo) and unpoison_memory (debugfs).
/// </summary>
internal sealed class MfUser
{
    private readonly UserPtr _buf;

    public MfUser(Process p)
    {
        P = p;
        _buf = p.MapAnonymous(PageDefs.PAGE_SIZE);
    }

    public Process P { get; }

    /// <summary>pread of one u64 at index <paramref name="index"/> of <paramref name="path"/>; the value, or throws.</summary>
    public ulong ReadU64(string path, ulong index)
    {
        var fd = (int)P.Open(path, Fcntl.O_RDONLY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), path);
        Assert.That(P.Pread64(fd, _buf, 8, (long)index * 8), Is.EqualTo(8), path);
        Span<byte> b = stackalloc byte[8];
        Assert.That(P.Load(_buf, b).Completed(8), Is.True);
        P.Close(fd);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public ulong Pagemap(UserPtr va) => ReadU64("/proc/self/pagemap", va.Value >> PageDefs.PAGE_SHIFT);

    /// <summary>pagemap_get_pfn: the PFN of a present page, or ulong.MaxValue.</summary>
    public ulong Pfn(UserPtr va)
    {
        var e = Pagemap(va);
        return (e & (1UL << 63)) != 0 ? e & ((1UL << 55) - 1) : ulong.MaxValue;
    }

    public static bool IsSwapped(ulong entry) => (entry & (1UL << 62)) != 0;

    public ulong Kpageflags(ulong pfn) => ReadU64("/proc/kpageflags", pfn);

    public static bool HasHwpoison(ulong flags) => (flags & (1UL << KernelSim.Fs.Kernfs.Kpf.KPF_HWPOISON)) != 0;

    /// <summary>get_hardware_corrupted_size: the HardwareCorrupted line of /proc/meminfo in kB.</summary>
    public ulong HardwareCorruptedKb()
    {
        Assert.That(P.ReadText("/proc/meminfo", out var text), Is.Zero);
        var line = text.Split('\n').Single(l => l.StartsWith("HardwareCorrupted:", StringComparison.Ordinal));
        return ulong.Parse(line["HardwareCorrupted:".Length..^" kB".Length].Trim(), CultureInfo.InvariantCulture);
    }

    public string Meminfo(string field)
    {
        P.ReadText("/proc/meminfo", out var text);
        return text.Split('\n').Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
    }

    /// <summary>unpoison_memory(pfn) of vm_util.c: write the pfn to debugfs; the write's result.</summary>
    public long Unpoison(ulong pfn) => P.WriteText("/sys/kernel/debug/hwpoison/unpoison-pfn", pfn.ToString(CultureInfo.InvariantCulture));

    public long Sysctl(string name, string value) => P.WriteText("/proc/sys/vm/" + name, value);
}
