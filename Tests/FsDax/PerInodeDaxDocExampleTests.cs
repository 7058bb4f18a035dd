using System.Buffers.Binary;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>The per-inode DAX and dax-pmd examples shown in docs/fsdax.md (the doc quotes this file verbatim).</summary>
public class PerInodeDaxDocExampleTests
{
    [Test]
    public void DaxInode_FlagOnADirectory_InheritedByANewFile_StatxShowsDax()
    {
        // Linux 6.12, /dev/pmem0 mounted with dax=inode: DAX only where FS_XFLAG_DAX asks for it.
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString)
            .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = DaxMode.Inode });
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(4096);

        // mkdir /mnt/pmem/d; xfs_io -c 'chattr +x' /mnt/pmem/d  (FS_IOC_FSSETXATTR with FS_XFLAG_DAX)
        Assert.That(p.Mkdir(fs.PathOf("d")), Is.Zero);
        var dir = (int)p.Open(fs.PathOf("d"), Fcntl.O_RDONLY);
        var fsx = new byte[FsIoctl.FsxattrSize];
        BinaryPrimitives.WriteUInt32LittleEndian(fsx, FsIoctl.FS_XFLAG_DAX);
        Assert.That(p.Store(buf, fsx).Signal, Is.Null);
        Assert.That(p.Ioctl(dir, FsIoctl.FS_IOC_FSSETXATTR, buf.Value), Is.Zero);

        // A file created in d inherits the flag and is loaded with S_DAX: statx says STATX_ATTR_DAX.
        var fd = (int)p.Open(fs.PathOf("d/f"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Statx(Stat.AT_FDCWD, fs.PathOf("d/f"), 0, Stat.STATX_BASIC_STATS, buf), Is.Zero);
        var stx = new byte[Stat.StatxSize];
        Assert.That(p.Load(buf, stx).Signal, Is.Null);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(stx.AsSpan(8)), Is.EqualTo(Stat.STATX_ATTR_DAX), "stx_attributes");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(stx.AsSpan(56)) & Stat.STATX_ATTR_DAX, Is.Not.Zero, "stx_attributes_mask");

        // Clearing the flag changes nothing until the last close: the inode is marked I_DONTCACHE.
        BinaryPrimitives.WriteUInt32LittleEndian(fsx, 0);
        Assert.That(p.Store(buf, fsx).Signal, Is.Null);
        Assert.That(p.Ioctl(fd, FsIoctl.FS_IOC_FSSETXATTR, buf.Value), Is.Zero);
        Assert.That(fs.Lookup("d/f")!.IsDax, Is.True);
        Assert.That(p.Close(fd), Is.Zero);
        Assert.That(fs.Lookup("d/f")!.IsDax, Is.False, "evicted and loaded again without S_DAX");
    }

    [Test]
    public void DaxPmd_FallocatedFile_HugeZeroPageThenA2MiBWrite_CountNopage()
    {
        // ndctl test/dax-pmd.c in miniature, traced like test/dax.sh (trace-cmd record -e fs_dax:dax_pmd_fault_done).
        var m = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString).WithTrace(true)
            .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = DaxMode.Always });
        var p = m.Spawn("app");
        var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Fallocate(fd, 0, 0, 4L << 20), Is.Zero); // unwritten extents, 2 MiB aligned on the disk

        // A 2 MiB-aligned shared mapping (MAP_FIXED), then one load in each 2 MiB and a store in the first.
        const ulong at = 0x6000_0000_0000UL;
        Assert.That(p.Mmap(at, 4UL << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, fd, 0), Is.EqualTo((long)at));
        Assert.That(p.LoadByte(new UserPtr(at), out _).Signal, Is.Null);               // huge zero page
        Assert.That(p.LoadByte(new UserPtr(at + (2UL << 20)), out _).Signal, Is.Null); // huge zero page
        Assert.That(p.Store(new UserPtr(at + 100), [0x5a]).Signal, Is.Null);          // 2 MiB of blocks replace it

        var nopage = m.Tracer.Records.Count(r => r.Kind == TraceKind.Event && r.Name == "dax_pmd_fault_done" && r.Text!.EndsWith(" NOPAGE"));
        Assert.That(nopage, Is.EqualTo(3));
        Assert.That(p.Mm.PfnAt(at)! % 512, Is.Zero, "a PMD mapping of the file's blocks");
        Assert.That(p.Mm.PfnAt(at + (2UL << 20)), Is.EqualTo(fs.FsDax.HugeZeroPfn()));
    }
}
