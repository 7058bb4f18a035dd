using KernelSim.Block;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>A machine with /dev/pmem0 (one 64 MiB fsdax namespace), one process and a page-aligned user buffer.</summary>
internal sealed class PmemScenario
{
    /// <summary>Device byte B of the scenarios (page aligned).</summary>
    public const long B = 1L << 20;

    public PmemScenario(string kernel = "6.12", Action<PmemOptions>? configure = null, WorkTiming timing = WorkTiming.AtSyscallExit, int pages = 4)
    {
        M = new MachineBuilder().WithKernel(kernel).WithWorkTiming(timing).AddPmem(o =>
        {
            o.Namespaces.Add(new PmemNamespaceSpec(64UL << 20));
            configure?.Invoke(o);
        }).Build();
        Dev = M.Pmem("pmem0");
        P = M.Spawn("io");
        U = P.MapAnonymous((ulong)pages * PageDefs.PAGE_SIZE);
        Assert.That(P.Fill(U, (ulong)pages * PageDefs.PAGE_SIZE, _ => 0xee).Done, Is.EqualTo((ulong)pages * PageDefs.PAGE_SIZE));
        // The media holds Pattern at every device byte of the first 4 MiB.
        var media = new byte[4 << 20];
        for (var i = 0; i < media.Length; i++) media[i] = Pattern(i);
        M.Phys.PokeBytes(new PhysAddr(Dev.DataPhys(0)), media);
    }

    /// <summary>Run an ndctl command line as the ndctl program in a process called "ndctl".</summary>
    public NdctlResult Ndctl(string line) => KernelSim.Drivers.Pmem.Ndctl.Run(_ndctl ??= M.Spawn("ndctl"), line);

    private Process? _ndctl;

    public Machine M { get; }
    public PmemDevice Dev { get; }
    public Process P { get; }
    public UserPtr U { get; }

    public static byte Pattern(long devOffset) => (byte)(devOffset * 13 + 5);

    public static byte[] PatternBytes(long from, int len)
    {
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = Pattern(from + k);
        return b;
    }

    /// <summary>Sector S(k) of the scenarios: device sector (B + 512k) / 512.</summary>
    public static long S(int k) => (B + 512L * k) / 512;

    public int Open(int flags)
    {
        var fd = P.Open("/dev/pmem0", flags);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "open /dev/pmem0");
        return (int)fd;
    }

    /// <summary>Latent poison in the line holding device byte <paramref name="devOffset"/>.</summary>
    public void PoisonMedia(long devOffset) => Assert.That(M.InjectPoison(new PhysAddr(Dev.DataPhys((ulong)devOffset))), Is.EqualTo(0));

    public byte[] Media(long devOffset, int len)
    {
        var b = new byte[len];
        M.Phys.PeekBytes(new PhysAddr(Dev.DataPhys((ulong)devOffset)), b);
        return b;
    }

    public byte[] UserBytes(ulong off, int len)
    {
        var peek = P.Peek(U + off, len);
        var b = new byte[len];
        for (var k = 0; k < len; k++) b[k] = peek[k] ?? throw new AssertionException($"byte {k} unmapped");
        return b;
    }

    public string Badblocks => Dev.Disk.BadblocksShow();
}
