using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Fs;

/// <summary>A booted machine with a ramfs mount, one process and a user buffer of resident pages.</summary>
internal sealed class FsScenario
{
    public FsScenario(string kernel, WriteEndPolicy policy = WriteEndPolicy.Block, int pages = 3, CpuModel? cpu = null, bool trace = false)
    {
        M = Sim.Boot(kernel, cpu, trace);
        Fs = RamFs.Mount(M, new RamFsOptions { WriteEnd = policy });
        P = M.Spawn("io");
        U = P.MapAnonymous((ulong)pages * PageDefs.PAGE_SIZE);
        var r = P.Fill(U, (ulong)pages * PageDefs.PAGE_SIZE, Pattern);
        Assert.That(r.Done, Is.EqualTo((ulong)pages * PageDefs.PAGE_SIZE), "setup fill");
    }

    public Machine M { get; }
    public RamFs Fs { get; }
    public Process P { get; }
    /// <summary>Start of the user buffer (page aligned).</summary>
    public UserPtr U { get; }

    /// <summary>The byte the setup stored at offset i of the user buffer.</summary>
    public static byte Pattern(ulong i) => (byte)(i * 7 + 3);

    public static byte[] PatternBytes(ulong from, int len)
    {
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = Pattern(from + (ulong)k);
        return b;
    }

    /// <summary>Unmap the page at U + n pages.</summary>
    public void UnmapPage(int n) => Assert.That(P.Munmap(U.Value + (ulong)n * PageDefs.PAGE_SIZE, PageDefs.PAGE_SIZE), Is.EqualTo(0));

    /// <summary>Latent poison in the line holding U + off.</summary>
    public void Poison(ulong off)
    {
        var va = U.Value + off;
        var pfn = P.Mm.PfnAt(va)!.Value;
        Assert.That(M.InjectPoison(PhysAddr.FromPfn(pfn) + PageDefs.OffsetInPage(va)), Is.EqualTo(0));
    }

    public int OpenNew(string name = "f", int flags = Fcntl.O_RDWR | Fcntl.O_CREAT)
    {
        var fd = P.Open(Fs.PathOf(name), flags);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "open");
        return (int)fd;
    }

    /// <summary>Store an iovec array at <paramref name="at"/> in user memory.</summary>
    public void StoreIovecs(UserPtr at, params (ulong Base, ulong Len)[] segs)
    {
        var b = new byte[segs.Length * 16];
        for (var k = 0; k < segs.Length; k++)
        {
            BitConverter.TryWriteBytes(b.AsSpan(k * 16, 8), segs[k].Base);
            BitConverter.TryWriteBytes(b.AsSpan(k * 16 + 8, 8), segs[k].Len);
        }
        Assert.That(P.Store(at, b).Done, Is.EqualTo((ulong)b.Length));
    }

    /// <summary>User bytes as the debugger sees them (null = unmapped).</summary>
    public byte[] UserBytes(UserPtr at, int len)
    {
        var peek = P.Peek(at, len);
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = peek[k] ?? throw new AssertionException($"byte {k} unmapped");
        return b;
    }
}
