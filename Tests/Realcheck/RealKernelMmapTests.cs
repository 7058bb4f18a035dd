using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Tests.FsDax;
using KernelSim.Uapi;

namespace KernelSim.Tests.Realcheck;

/// <summary>
/// mmap flag checks as Debian 6.1.0-57 (6.1.192) and 6.12.118 answered them under QEMU TCG, checked 2025-12-05 with
/// tools/realcheck (docs/crosscheck.md "Facts checked on real kernels"): calc_vm_flag_bits turns MAP_SYNC into VM_SYNC
/// before do_mmap drops unknown MAP_SHARED flags, so MAP_SHARED | MAP_SYNC and MAP_PRIVATE | MAP_SYNC map with "sf" in
/// VmFlags on tmpfs and ramfs, and a non-DAX ext4 file refuses both with −EOPNOTSUPP (daxdev_mapping_supported).
/// </summary>
public class RealKernelMmapTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;

    private static (Process P, int Fd) FileOn(string kernel, string fs)
    {
        var m = new MachineBuilder().WithKernel(kernel).AddTmpFs().AddRamFs().Build();
        var path = fs == "tmpfs" ? ((TmpFs)m.Vfs.Mounts.Single(f => f is TmpFs)).PathOf("mapsync") : ((RamFs)m.Vfs.Mounts.Single(f => f is RamFs)).PathOf("mapsync");
        var p = m.Spawn("probe");
        var fd = (int)p.Open(path, Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Ftruncate(fd, 2 * 4096), Is.Zero);
        return (p, fd);
    }

    private static string VmFlagsAt(Process p, long addr)
    {
        Assert.That(p.ReadText("/proc/self/smaps", out var smaps), Is.Zero);
        var lines = smaps.Split('\n');
        var i = Array.FindIndex(lines, l => l.StartsWith($"{addr:x}-", StringComparison.Ordinal));
        Assert.That(i, Is.GreaterThanOrEqualTo(0));
        return lines.Skip(i).First(l => l.StartsWith("VmFlags:", StringComparison.Ordinal));
    }

    /// <summary>ramfs gave the same answers on both kernels; the simulator's ramfs has no -&gt;mmap (−ENODEV, docs/crosscheck.md).</summary>
    [TestCase("6.1", "tmpfs")]
    [TestCase("6.12", "tmpfs")]
    public void MapSync_OnTmpfs(string kernel, string fs)
    {
        var (p, fd) = FileOn(kernel, fs);
        var a = p.Mmap(0, 4096, RW, Mman.MAP_SHARED | Mman.MAP_SYNC, fd, 0);
        Assert.That(a, Is.GreaterThan(0));
        Assert.That(VmFlagsAt(p, a), Is.EqualTo("VmFlags: rd wr sh mr mw me ms sf sd "));
        a = p.Mmap(0, 4096, RW, Mman.MAP_PRIVATE | Mman.MAP_SYNC, fd, 0);
        Assert.That(a, Is.GreaterThan(0));
        Assert.That(VmFlagsAt(p, a), Is.EqualTo("VmFlags: rd wr mr mw me ac sf sd "));
        a = p.Mmap(0, 4096, RW, Mman.MAP_SHARED | 0x200000, fd, 0);
        Assert.That(VmFlagsAt(p, a), Is.EqualTo("VmFlags: rd wr sh mr mw me ms sd "), "an unknown bit is dropped");
        a = p.Mmap(0, 4096, RW, Mman.MAP_SHARED_VALIDATE, fd, 0);
        Assert.That(VmFlagsAt(p, a), Is.EqualTo("VmFlags: rd wr sh mr mw me ms sd "));
        Assert.That(p.Mmap(0, 4096, RW, Mman.MAP_SHARED_VALIDATE | Mman.MAP_SYNC, fd, 0), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(p.Mmap(0, 4096, RW, Mman.MAP_SHARED_VALIDATE | 0x200000, fd, 0), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(p.Mmap(0x500000000000, 4096, RW, Mman.MAP_SHARED_VALIDATE | Mman.MAP_FIXED_NOREPLACE, fd, 0), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(p.Mmap(0x500000000000, 4096, RW, Mman.MAP_SHARED | Mman.MAP_FIXED_NOREPLACE, fd, 0), Is.EqualTo(0x500000000000));
    }

    [TestCase("6.1")]
    [TestCase("6.12")]
    public void MapSync_Anonymous_SharedAndPrivateKeepIt_ValidateIsEinval(string kernel)
    {
        var (p, _) = FileOn(kernel, "tmpfs");
        var a = p.Mmap(0, 4096, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_SYNC);
        Assert.That(VmFlagsAt(p, a), Is.EqualTo("VmFlags: rd wr sh mr mw me ms sf sd "));
        a = p.Mmap(0, 4096, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_SYNC);
        Assert.That(VmFlagsAt(p, a), Is.EqualTo("VmFlags: rd wr mr mw me ac sf sd "));
        Assert.That(p.Mmap(0, 4096, RW, Mman.MAP_SHARED_VALIDATE | Mman.MAP_ANONYMOUS | Mman.MAP_SYNC), Is.EqualTo(-Errno.EINVAL));
    }

    /// <summary>ext4 on the fsdax NVDIMM (checked on 6.1.0-57 and 6.12.118): dax=never refuses MAP_SYNC with either type, dax=always maps "sf".</summary>
    [TestCase(DaxMode.Never)]
    [TestCase(DaxMode.Always)]
    public void MapSync_OnAFilesystemWithDaxdevMappingSupported(DaxMode mode)
    {
        var s = new DaxScenario("6.1", mode);
        var fd = s.CreateFile("F", 2 * 4096);
        foreach (var type in new[] { Mman.MAP_SHARED, Mman.MAP_PRIVATE, Mman.MAP_SHARED_VALIDATE })
        {
            var a = s.P.Mmap(0, 4096, RW, type | Mman.MAP_SYNC, fd, 0);
            if (mode == DaxMode.Never)
            {
                Assert.That(a, Is.EqualTo(-Errno.EOPNOTSUPP), $"type {type}");
                continue;
            }
            Assert.That(a, Is.GreaterThan(0), $"type {type}");
            Assert.That(VmFlagsAt(s.P, a), Is.EqualTo(type == Mman.MAP_PRIVATE ? "VmFlags: rd wr mr mw me ac sf sd hg " : "VmFlags: rd wr sh mr mw me ms sf sd hg "));
        }
    }
}
