using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>
/// A machine with one 64 MiB fsdax pmem namespace (/dev/pmem0, NFIT unless <c>legacyE820</c>), a daxfs formatted
/// and mounted on it, and a process "app" with a user buffer of 0xEE bytes.
/// </summary>
internal sealed class DaxScenario
{
    public const byte Fill = 0xEE;
    public const ulong PmemSize = 64UL << 20;

    public DaxScenario(string kernel, DaxMode mode = DaxMode.Always, FailureRoute route = FailureRoute.Generic, bool legacyE820 = false,
        CpuModel? cpu = null, int userPages = 8, bool trace = false, bool huge = true, uint clearErrUnit = 256)
    {
        M = new MachineBuilder().WithKernel(kernel).WithCpu(cpu ?? CpuModel.FastString).WithTrace(trace)
            .AddPmem(o =>
            {
                o.Namespaces.Add(new PmemNamespaceSpec(PmemSize));
                o.LegacyE820 = legacyE820;
                o.ClearErrUnit = clearErrUnit;
            })
            .AddDaxFs()
            .Build();
        Pmem = M.Pmem();
        Fs = DaxFs.FormatAndMount(M, Pmem.Disk, new DaxFsOptions { Dax = mode, FailureRoute = route, HugeFaults = huge });
        P = M.Spawn("app");
        U = P.MapAnonymous((ulong)userPages * PageDefs.PAGE_SIZE);
        Assert.That(P.Fill(U, (ulong)userPages * PageDefs.PAGE_SIZE, _ => Fill).Done, Is.EqualTo((ulong)userPages * PageDefs.PAGE_SIZE));
    }

    public Machine M { get; }
    public PmemDevice Pmem { get; }
    public DaxFs Fs { get; }
    public Process P { get; }
    /// <summary>The user buffer (page aligned, filled with <see cref="Fill"/>).</summary>
    public UserPtr U { get; }

    /// <summary>The byte the setup wrote at file offset x.</summary>
    public static byte Data(long x) => (byte)(x * 13 + 5);

    public static byte[] DataBytes(long from, int len)
    {
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = Data(from + k);
        return b;
    }

    public string Path(string name) => Fs.PathOf(name);

    /// <summary>Open a file of this mount (asserting success).</summary>
    public int Open(string name, int flags = Fcntl.O_RDWR, Process? p = null)
    {
        var fd = (p ?? P).Open(Path(name), flags);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), $"open {name}: {Errno.Describe(fd)}");
        return (int)fd;
    }

    /// <summary>Create a file of <paramref name="len"/> bytes of <see cref="Data"/> with pwrite from a scratch mapping; returns an O_RDWR fd.</summary>
    public int CreateFile(string name, long len, Process? p = null)
    {
        p ??= P;
        var fd = Open(name, Fcntl.O_RDWR | Fcntl.O_CREAT, p);
        if (len > 0) WriteData(fd, 0, len, p);
        return fd;
    }

    /// <summary>pwrite <see cref="Data"/> bytes [off, off+len) of the file through a scratch mapping.</summary>
    public void WriteData(int fd, long off, long len, Process? p = null)
    {
        p ??= P;
        var scratch = p.MapAnonymous(PageDefs.PageAlign((ulong)len));
        Assert.That(p.Fill(scratch, (ulong)len, i => Data(off + (long)i)).Done, Is.EqualTo((ulong)len));
        Assert.That(p.Pwrite64(fd, scratch, (ulong)len, off), Is.EqualTo(len), "setup pwrite");
        Assert.That(p.Munmap(scratch.Value, PageDefs.PageAlign((ulong)len)), Is.EqualTo(0));
    }

    /// <summary>The physical address of file byte x of <paramref name="name"/> on the pmem.</summary>
    public PhysAddr PhysOf(string name, long x)
    {
        var dev = Fs.DeviceOffsetOf(name, x);
        Assert.That(dev, Is.GreaterThanOrEqualTo(0), "file offset is mapped");
        return new PhysAddr(Pmem.DataPhys((ulong)dev));
    }

    /// <summary>EINJ: latent poison in the line holding file byte x.</summary>
    public void PoisonFile(string name, long x) => Assert.That(M.InjectPoison(PhysOf(name, x)), Is.EqualTo(0));

    /// <summary>Make the 512-byte sector holding file byte x a known badblock (echo "S 1" &gt; /sys/block/pmem0/badblocks).</summary>
    public long MarkBad(string name, long x)
    {
        var s = Fs.SectorOf(name, x);
        Assert.That(Pmem.Disk.BadblocksStore($"{s} 1"), Is.GreaterThanOrEqualTo(0));
        return s;
    }

    /// <summary>User bytes as the debugger sees them.</summary>
    public byte[] UserBytes(UserPtr at, int len, Process? p = null)
    {
        var peek = (p ?? P).Peek(at, len);
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = peek[k] ?? throw new AssertionException($"byte {k} unmapped");
        return b;
    }

    public static byte[] Filled(int len, byte v = Fill) => Enumerable.Repeat(v, len).ToArray();

    /// <summary>mmap a file of this mount; the address (asserting success).</summary>
    public UserPtr MapFile(int fd, ulong len, int prot = Mman.PROT_READ, int flags = Mman.MAP_SHARED, long off = 0, ulong addr = 0, Process? p = null)
    {
        var r = (p ?? P).Mmap(addr, len, prot, flags, fd, off);
        Assert.That(r, Is.GreaterThan(0), $"mmap: {Errno.Describe(r)}");
        return new UserPtr((ulong)r);
    }
}
