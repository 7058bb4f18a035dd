using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>The example of docs/pmem.md (the doc quotes the block between the doc markers verbatim).</summary>
public class PmemDocExampleTests
{
    [Test]
    public void DocExample_InjectScrubReadWrite()
    {
        // doc:begin
        // Boot Linux 6.12 with one 64 MiB fsdax namespace: /dev/pmem0, namespace0.0.
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(new PmemNamespaceSpec(64UL << 20)).Build();
        var sh = m.Spawn("ndctl");

        // ndctl (the program) inject-error: 8 blocks at block 8, with notify → ARS → badblocks; it waits for the scrub.
        var r = Ndctl.Run(sh, "inject-error namespace0.0 --block=8 --count=8");
        Assert.That(r.Rc, Is.Zero);
        Assert.That(r.Stdout, Does.Contain("\"badblock_count\":8,"));
        Assert.That(sh.ReadText("/sys/block/pmem0/badblocks", out var bb), Is.Zero);
        Assert.That(bb, Is.EqualTo("8 8\n"));

        // O_DIRECT I/O from a process: reads of known-bad sectors fail, a 512-aligned write clears them.
        var p = m.Spawn("dd");
        var buf = p.MapAnonymous(4096);
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(p.Pwrite64(fd, buf, 4096, 4096), Is.EqualTo(4096));
        Assert.That(m.Pmem("pmem0").Disk.BadblocksShow(), Is.Empty);
        Assert.That(Ndctl.Run(sh, "inject-error --status namespace0.0").Stdout, Is.Empty);
        // doc:end
    }

    [Test]
    public void DocExample_NdctlOnAQemuMachine()
    {
        // doc:begin
        // QEMU's emulated NVDIMM: one label-less raw namespace, no ARS, no injection, no clear-error DSM.
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
        {
            o.Platform = NvdimmPlatform.Qemu;
            o.Namespaces.Add(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
        }).Build();
        var p = m.Spawn("ndctl");
        Assert.That(Ndctl.Run(p, "list"), Is.EqualTo(new NdctlResult(0, """
            [
              {
                "dev":"namespace0.0",
                "mode":"raw",
                "size":67108864,
                "sector_size":512,
                "blockdev":"pmem0"
              }
            ]

            """, "")));
        Assert.That(Ndctl.Run(p, "inject-error namespace0.0 -B 8 -n 1"),
            Is.EqualTo(new NdctlResult(161, "", "namespace0.0: error injection not supported\n")));

        // The bus ioctls are refused: ARS_CAP on /dev/ndctl0 is not in the bus command mask.
        var fd = (int)p.Open("/dev/ndctl0", Fcntl.O_RDWR);
        var cap = p.MapAnonymous(4096);
        Assert.That(p.Ioctl(fd, Ioctl.IOWR('N', 1, 32), cap.Value), Is.EqualTo(-Errno.ENOTTY));
        // doc:end
    }

    [Test]
    public void DocExample_DevdaxThenSectorMode()
    {
        // doc:begin
        // Booted in devdax mode (an earlier boot left the NVDIMM_DAX_INFO block): dax_pmem binds dax0.1 and
        // creates /dev/dax0.0 over the data after the 2 MiB info block and memmap.
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Devdax)).Build();
        var p = m.Spawn("app");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(p.ReadText("/sys/bus/nd/devices/namespace0.0/holder", out var holder), Is.Zero);
        Assert.That(holder, Is.EqualTo("dax0.1\n"));
        var fd = (int)p.Open("/dev/dax0.0", Fcntl.O_RDWR);
        var a = (ulong)p.Mmap(0, 8UL << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);

        // Latent poison in the device's second 2 MiB block: SIGBUS names the head of the block (6.12), lsb 21.
        Assert.That(m.InjectPoison(new PhysAddr((4UL << 30) + (4UL << 20) + 0x40)), Is.Zero);
        Assert.That(p.LoadByte(new UserPtr(a + (2UL << 20) + 0x40), out _).Signal,
            Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a + (2UL << 20), 21, true)));

        // ndctl reconfigures the namespace to sector mode: a new BTT with 4096-byte sectors, /dev/pmem0s.
        var nd = m.Spawn("ndctl");
        Assert.That(Ndctl.Run(nd, "create-namespace -f -e namespace0.0 -m sector -l 4096").Rc, Is.Zero);
        Assert.That(p.ReadText("/sys/bus/nd/devices/namespace0.0/mode", out var mode), Is.Zero);
        Assert.That(mode, Is.EqualTo("safe\n"));
        Assert.That(p.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.Open("/dev/pmem0s", Fcntl.O_RDWR | Fcntl.O_DIRECT), Is.GreaterThanOrEqualTo(0));
        // doc:end
    }

    [Test]
    public void DocsPmemMd_QuotesTheExamples()
    {
        var root = RepoRoot();
        var doc = File.ReadAllText(Path.Combine(root, "docs", "pmem.md"));
        var src = File.ReadAllLines(Path.Combine(root, "Tests", "Pmem", "PmemDocExampleTests.cs"));
        var blocks = 0;
        for (var begin = Array.FindIndex(src, l => l.Trim() == "// doc:begin"); begin >= 0; begin = Array.FindIndex(src, begin + 1, l => l.Trim() == "// doc:begin"))
        {
            var end = Array.FindIndex(src, begin, l => l.Trim() == "// doc:end");
            Assert.That(end, Is.GreaterThan(begin + 1));
            foreach (var line in src[(begin + 1)..end]) Assert.That(doc, Does.Contain(line.Trim()));
            blocks++;
        }
        Assert.That(blocks, Is.EqualTo(3));
    }

    private static string RepoRoot() => KernelSim.Tests.Cli.RepoFiles.Root;
}
