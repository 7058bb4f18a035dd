using KernelSim.Dax;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Moq;

namespace KernelSim.Tests.FsDax;

/// <summary>dax_iomap_rw against a Moq double of the DAX driver: the calls fs/dax.c makes, chunk by chunk.</summary>
public class DaxIomapRwMockTests
{
    private delegate long DirectAccessFn(DaxDevice dev, ulong pgoff, long nrPages, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn);

    private const int Pages = 64;

    private sealed class Rig
    {
        public Rig(Func<ulong, long, long>? avail = null)
        {
            Avail = avail;
            M = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString).AddDaxFs().Build();
            Backing = M.Kmalloc(Pages * 4096)!.Value;
            var basePfn = M.KernelMap.Pa(Backing)!.Value.Pfn;
            Ops = new Mock<IDaxOperations>(MockBehavior.Strict);
            KernelPtr k;
            ulong pf;
            Ops.Setup(o => o.DirectAccess(It.IsAny<DaxDevice>(), It.IsAny<ulong>(), It.IsAny<long>(), It.IsAny<DaxAccessMode>(), out k, out pf))
                .Returns(new DirectAccessFn((DaxDevice _, ulong pgoff, long nr, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn) =>
                {
                    kaddr = Backing + pgoff * 4096;
                    pfn = basePfn + pgoff;
                    Calls.Add((pgoff, nr, mode));
                    return Avail?.Invoke(pgoff, nr) ?? Pages - (long)pgoff;
                }));
            Ops.Setup(o => o.ZeroPageRange(It.IsAny<DaxDevice>(), It.IsAny<ulong>(), 1UL)).Returns((DaxDevice _, ulong pgoff, ulong _) =>
            {
                Zeroed.Add(pgoff);
                M.Phys.PokeBytes(M.KernelMap.Pa(Backing + pgoff * 4096)!.Value, new byte[4096]);
                return 0;
            });
            Dax = new DaxDevice("mock0", Ops.Object, M.IovIter, M.Profile, M.Tracer);
            Dax.Flags |= DaxDevFlags.DAXDEV_NOMC | DaxDevFlags.DAXDEV_NOCACHE;
            Assert.That(DaxFs.Mount(M, Dax, DaxFsVolume.Format(Pages * 4096), new DaxFsOptions { MountPoint = "/mnt/mock" }, out var fs), Is.Zero);
            Fs = fs!;
            P = M.Spawn("io");
            U = P.MapAnonymous(8 * 4096);
            Assert.That(P.Fill(U, 8 * 4096, i => (byte)(i * 5 + 1)).Done, Is.EqualTo(8UL * 4096));
        }

        /// <summary>What -&gt;direct_access returns for (pgoff, nr_pages); null: every page to the end of the device.</summary>
        public Func<ulong, long, long>? Avail { get; set; }
        public Machine M { get; }
        public KernelPtr Backing { get; }
        public Mock<IDaxOperations> Ops { get; }
        public DaxDevice Dax { get; }
        public DaxFs Fs { get; }
        public Process P { get; }
        public UserPtr U { get; }
        public List<(ulong PgOff, long NrPages, DaxAccessMode Mode)> Calls { get; } = [];
        public List<ulong> Zeroed { get; } = [];

        /// <summary>F: page 0 at device page 0, page 1 at device page 2 (G took page 1): two extents.</summary>
        public int TwoExtentFile()
        {
            var fd = (int)P.Open(Fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
            var g = (int)P.Open(Fs.PathOf("G"), Fcntl.O_RDWR | Fcntl.O_CREAT);
            Assert.That(P.Pwrite64(fd, U, 4096, 0), Is.EqualTo(4096));
            Assert.That(P.Pwrite64(g, U, 4096, 0), Is.EqualTo(4096));
            Assert.That(P.Pwrite64(fd, U + 4096UL, 4096, 4096), Is.EqualTo(4096));
            Assert.That(Fs.Fiemap("F").Select(e => (e.FileOffset, e.DeviceOffset, e.Length)), Is.EqualTo(new[] { (0L, 0L, 4096L), (4096L, 8192L, 4096L) }));
            return fd;
        }

        public byte[] Dev(ulong pgoff, int off, int len)
        {
            var b = new byte[len];
            M.Phys.PeekBytes(M.KernelMap.Pa(Backing + pgoff * 4096)!.Value + (ulong)off, b);
            return b;
        }
    }

    [Test]
    public void Setup_AllocationZeroesEachNewBlock_WritesCallDirectAccessPerExtent()
    {
        var r = new Rig();
        r.TwoExtentFile();
        Assert.That(r.Zeroed, Is.EqualTo(new ulong[] { 0, 1, 2 }), "dax_zero_page_range for every new block");
        Assert.That(r.Calls, Is.EqualTo(new[] { (0UL, 1L, DaxAccessMode.DAX_ACCESS), (1UL, 1L, DaxAccessMode.DAX_ACCESS), (2UL, 1L, DaxAccessMode.DAX_ACCESS) }));
        Assert.That(r.Dev(2, 0, 16), Is.EqualTo(Enumerable.Range(4096, 16).Select(i => (byte)(i * 5 + 1)).ToArray()));
    }

    [Test]
    public void Read_AcrossAnExtentBoundary_OneDirectAccessPerExtent_CopiesSplitAtTheBoundary()
    {
        var r = new Rig();
        var fd = r.TwoExtentFile();
        r.Calls.Clear();
        r.Fs.IomapOps.Log.Clear();
        var dst = r.U + 2UL * 4096;

        Assert.That(r.P.Pread64(fd, dst, 6000, 1000), Is.EqualTo(6000));

        // chunk 1: pos 1000 in extent [0,4096) → device page 0, one page, copy 3096 bytes;
        // chunk 2: pos 4096 in extent [4096,8192) → device page 2, ALIGN(2904) = one page, copy 2904 bytes.
        Assert.That(r.Calls, Is.EqualTo(new[] { (0UL, 1L, DaxAccessMode.DAX_ACCESS), (2UL, 1L, DaxAccessMode.DAX_ACCESS) }));
        Assert.That(r.Fs.IomapOps.Log.Select(l => (l.Pos, l.Length)), Is.EqualTo(new[] { (1000L, 6000L), (4096L, 2904L) }));
        var got = r.P.Peek(dst, 6000).Select(b => b!.Value).ToArray();
        Assert.That(got[..3096], Is.EqualTo(r.Dev(0, 1000, 3096)));
        Assert.That(got[3096..], Is.EqualTo(r.Dev(2, 0, 2904)));
        r.Ops.Verify(o => o.RecoveryWrite(It.IsAny<DaxDevice>(), It.IsAny<ulong>(), It.IsAny<KernelPtr>(), It.IsAny<ulong>(), It.IsAny<IovIter>()), Times.Never);
    }

    [Test]
    public void Read_DriverReturnsFewerPagesThanAsked_NextChunkStartsAtTheNextPage()
    {
        var r = new Rig();
        var fd = (int)r.P.Open(r.Fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(r.P.Pwrite64(fd, r.U, 3 * 4096, 0), Is.EqualTo(3 * 4096));
        r.Avail = (pgoff, nr) => 1;
        r.Calls.Clear();
        Assert.That(r.P.Pread64(fd, r.U + 3UL * 4096, 3 * 4096 - 200, 100), Is.EqualTo(3 * 4096 - 200));
        // One extent: size = ALIGN(length + offset): 3 pages asked, 1 granted → copy 3996; then 2 asked (8092 left), …
        Assert.That(r.Calls, Is.EqualTo(new[] { (0UL, 3L, DaxAccessMode.DAX_ACCESS), (1UL, 2L, DaxAccessMode.DAX_ACCESS), (2UL, 1L, DaxAccessMode.DAX_ACCESS) }));
    }

    [Test]
    public void Read_SecondExtentPoisoned_ErrorSwallowedAfterProgress_Returns3096()
    {
        var r = new Rig();
        var fd = r.TwoExtentFile();
        r.Avail = (pgoff, nr) => pgoff == 2 ? -Errno.EHWPOISON : Pages - (long)pgoff;
        r.Calls.Clear();
        Assert.That(r.P.Pread64(fd, r.U + 2UL * 4096, 6000, 1000), Is.EqualTo(3096));
        Assert.That(r.P.Pread64(fd, r.U + 2UL * 4096, 100, 5000), Is.EqualTo(-Errno.EIO), "dax_mem2blk_err");
    }

    [Test]
    public void Write_PoisonedPage_RetriesWithRecoveryWrite_PassesTheIterator()
    {
        var r = new Rig();
        var fd = r.TwoExtentFile();
        r.Avail = (pgoff, nr) => pgoff == 2 ? -Errno.EHWPOISON : Pages - (long)pgoff;
        r.Calls.Clear();
        r.Ops.Setup(o => o.DirectAccess(It.IsAny<DaxDevice>(), 2UL, 1L, DaxAccessMode.DAX_RECOVERY_WRITE, out It.Ref<KernelPtr>.IsAny, out It.Ref<ulong>.IsAny))
            .Returns(new DirectAccessFn((DaxDevice _, ulong pgoff, long nr, DaxAccessMode mode, out KernelPtr kaddr, out ulong pfn) =>
            {
                kaddr = r.Backing + pgoff * 4096;
                pfn = 0;
                r.Calls.Add((pgoff, nr, mode));
                return 1;
            }));
        r.Ops.Setup(o => o.RecoveryWrite(It.IsAny<DaxDevice>(), 2UL, It.IsAny<KernelPtr>(), 4096UL, It.IsAny<IovIter>()))
            .Returns((DaxDevice _, ulong _, KernelPtr addr, ulong bytes, IovIter it) => r.M.IovIter.CopyFromIter(addr, bytes, it));

        Assert.That(r.P.Pwrite64(fd, r.U, 4096, 4096), Is.EqualTo(4096));

        Assert.That(r.Calls, Is.EqualTo(new[] { (2UL, 1L, DaxAccessMode.DAX_ACCESS), (2UL, 1L, DaxAccessMode.DAX_RECOVERY_WRITE) }));
        r.Ops.Verify(o => o.RecoveryWrite(It.IsAny<DaxDevice>(), 2UL, r.Backing + 2UL * 4096, 4096UL, It.IsAny<IovIter>()), Times.Once);
        Assert.That(r.Dev(2, 0, 8), Is.EqualTo(Enumerable.Range(0, 8).Select(i => (byte)(i * 5 + 1)).ToArray()));
    }

    [Test]
    public void IomapReset_ReadsAsAZeroedStructIomap_DaxDevIncluded()
    {
        // iomap->dax_dev is kept across iomap_iter's clearing (no reference store per call) but must read as NULL.
        var m = new MachineBuilder().WithKernel("6.12").Build();
        var dev = new DaxDevice("d0", new Mock<IDaxOperations>().Object, m.IovIter, m.Profile, m.Tracer);
        var iomap = new Iomap { DaxDev = dev, Addr = 4096, Length = 8192, Type = IomapType.IOMAP_MAPPED };
        iomap.Reset();
        Assert.That((iomap.DaxDev, iomap.Addr, iomap.Length, iomap.Type), Is.EqualTo(((DaxDevice?)null, Iomap.NullAddr, 0UL, IomapType.IOMAP_HOLE)));
        iomap.DaxDev = dev;
        Assert.That(iomap.DaxDev, Is.SameAs(dev));
        iomap.DaxDev = null;
        Assert.That(iomap.DaxDev, Is.Null);
    }
}
