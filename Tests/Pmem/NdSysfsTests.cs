using KernelSim.Tests.Infrastructure;
using System.Buffers.Binary;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>The libnvdimm device model and its sysfs tree: names, seeds, attributes, bind/unbind, the info block on the media.</summary>
public class NdSysfsTests
{
    private const string Nd = "/sys/bus/nd/devices";

    private static string Cat(Process p, string path) => Sim.Cat(p, path);

    private static long Echo(Process p, string path, string text) => p.WriteText(path, text);

    [Test]
    public void DefaultBoot_FsdaxNamespace_IsClaimedByPfn01_WithSeedsAsLinuxNamesThem()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem().Build();
        var p = m.Spawn("sh");
        Assert.That(p.ListDir(Nd, out var names), Is.EqualTo(0));
        Assert.That(names, Is.EqualTo(new[] { "ndbus0", "nmem0", "region0", "namespace0.0", "btt0.0", "pfn0.0", "dax0.0", "pfn0.1", "namespace0.1" }));
        Assert.That(Cat(p, $"{Nd}/region0/pfn_seed"), Is.EqualTo("pfn0.0\n"));
        Assert.That(Cat(p, $"{Nd}/region0/namespace_seed"), Is.EqualTo("namespace0.1\n"));
        Assert.That(Cat(p, $"{Nd}/region0/size"), Is.EqualTo("67108864\n"));
        Assert.That(Cat(p, $"{Nd}/region0/align"), Is.EqualTo("0x1000000\n"));
        Assert.That(Cat(p, $"{Nd}/region0/available_size"), Is.EqualTo("0\n"));
        Assert.That(Cat(p, $"{Nd}/region0/mapping0"), Is.EqualTo("nmem0,0,67108864,0\n"));
        Assert.That(Cat(p, $"{Nd}/region0/resource"), Is.EqualTo("0x100000000\n"));
        Assert.That(Cat(p, $"{Nd}/region0/init_namespaces"), Is.EqualTo("1/1\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("memory\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/holder"), Is.EqualTo("pfn0.1\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/uuid"), Is.EqualTo("00000000-0000-4000-8000-000000000000\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/sector_size"), Is.EqualTo("[512] 4096 \n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/nstype"), Is.EqualTo("5\n"));
        Assert.That(Cat(p, $"{Nd}/pfn0.1/align"), Is.EqualTo("2097152\n"));
        Assert.That(Cat(p, $"{Nd}/pfn0.1/mode"), Is.EqualTo("pmem\n"));
        Assert.That(Cat(p, $"{Nd}/pfn0.1/resource"), Is.EqualTo("0x100200000\n"));
        Assert.That(Cat(p, $"{Nd}/pfn0.1/size"), Is.EqualTo("65011712\n"));
        Assert.That(Cat(p, $"{Nd}/pfn0.1/supported_alignments"), Is.EqualTo("4096 2097152 1073741824 \n"));
        Assert.That(p.ReadText($"{Nd}/pfn0.0/size", out _), Is.EqualTo(-Errno.ENXIO), "no size to convey while disabled");
        Assert.That(p.ReadLink($"{Nd}/pfn0.1/driver", out var drv), Is.EqualTo(0));
        Assert.That(drv, Is.EqualTo("../../../../../../bus/nd/drivers/nd_pmem"));
        Assert.That(p.ReadLink($"{Nd}/region0", out var target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("../../../devices/platform/nfit_test.0/ndbus0/region0"));
        Assert.That(Cat(p, $"{Nd}/nmem0/nfit/serial"), Is.EqualTo("0x5a5a0000\n"));
        Assert.That(m.Pmem("pmem0").DataOffset, Is.EqualTo(2UL << 20));
    }

    [Test]
    public void DefaultBoot_InfoBlockOnTheMedia_HasTheKernelLayoutAndChecksum()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem().Build();
        var sb = new byte[4096];
        m.Phys.PeekBytes(new PhysAddr((4UL << 30) + 4096), sb);
        Assert.That(System.Text.Encoding.ASCII.GetString(sb, 0, 16), Is.EqualTo("NVDIMM_PFN_INFO\0"));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(52)), Is.EqualTo(1), "version_major");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(54)), Is.EqualTo(4), "version_minor");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(56)), Is.EqualTo(0x200000UL), "dataoff");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(64)), Is.EqualTo(15872UL), "npfns = (64M − 2M) / 4K");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(72)), Is.EqualTo(2u), "PFN_MODE_PMEM");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(84)), Is.EqualTo(0x200000u), "align");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(88)), Is.EqualTo(4096u), "page_size");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(92)), Is.EqualTo(64), "page_struct_size");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(4088)), Is.EqualTo(PfnSb.SbChecksum(sb)));
        Assert.That(sb.AsSpan(32, 16).ToArray(), Is.EqualTo(Nvdimm.DefaultUuid(0, 0).ToByteArray(true)), "parent_uuid = the namespace uuid");
    }

    [Test]
    public void Fletcher64_SumsLittleEndianWords()
    {
        // words 1, 2, 3: lo = 6, hi = 1 + 3 + 6 = 10.
        Assert.That(PfnSb.Fletcher64([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]), Is.EqualTo((10UL << 32) | 6));
    }

    [Test]
    public void TwoRegions_ArePmem0AndPmem1_WithADimmEach()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
        {
            o.Regions.Add(new PmemRegionSpec { Namespaces = [new PmemNamespaceSpec(64UL << 20)] });
            o.Regions.Add(new PmemRegionSpec { Namespaces = [new PmemNamespaceSpec(32UL << 20, NamespaceMode.Raw)] });
        }).Build();
        var p = m.Spawn("sh");
        Assert.That(m.Pmem("pmem0").NamespaceName, Is.EqualTo("namespace0.0"));
        Assert.That(m.Pmem("pmem1").NamespaceName, Is.EqualTo("namespace1.0"));
        Assert.That(m.Pmem("pmem1").PhysAddr, Is.EqualTo((4UL << 30) + (64UL << 20)));
        Assert.That(Cat(p, $"{Nd}/region1/mapping0"), Is.EqualTo("nmem1,0,33554432,0\n"));
        Assert.That(Cat(p, $"{Nd}/namespace1.0/mode"), Is.EqualTo("raw\n"));
        Assert.That(Cat(p, $"{Nd}/region1/namespace_seed"), Is.EqualTo("namespace1.1\n"));
        Assert.That(p.Open("/dev/pmem1", Fcntl.O_RDONLY), Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void Qemu_LabelLessNamespaceIo_SpansTheRegion_AndAWriteOverABadSectorKeepsFailing()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
        {
            o.Platform = NvdimmPlatform.Qemu;
            o.Namespaces.Add(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
        }).Build();
        var p = m.Spawn("dd");
        Assert.That(Cat(p, $"{Nd}/namespace0.0/nstype"), Is.EqualTo("4\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("raw\n"));
        Assert.That(Cat(p, $"{Nd}/region0/namespace_seed"), Is.EqualTo("namespace0.0\n"));
        Assert.That(p.Open($"{Nd}/namespace0.0/uuid", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.ReadLink($"{Nd}/region0", out var target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo("../../../devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region0"));
        Assert.That(Ndctl.Run(p, "start-scrub"), Is.EqualTo(new NdctlResult(254, "", "error starting scrub: No such file or directory\n")),
            "no ARS on QEMU: the bus has no nfit/scrub file");
        Assert.That(m.InjectPoison(new PhysAddr((4UL << 30) + 4096)), Is.EqualTo(0));
        var buf = p.MapAnonymous(4096);
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO), "the machine check is consumed");
        Assert.That(m.Pmem("pmem0").Disk.BadblocksShow(), Is.EqualTo("8 1\n"), "nfit_handle_mce recorded the line");
        Assert.That(p.Pwrite64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO), "ARS_CAP is -ENOTTY: nothing can be cleared");
        Assert.That(p.Pwrite64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(m.Pmem("pmem0").Disk.BadblocksShow(), Is.EqualTo("8 1\n"));
    }

    [Test]
    public void RawToFsdaxToRaw_PurelyThroughSysfs_WithTheInfoBlockCheckedThroughForceRaw()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw)).Build();
        var p = m.Spawn("sh");
        const string drv = "/sys/bus/nd/drivers/nd_pmem";
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("raw\n"));

        // raw → fsdax: disable the namespace, configure the pfn seed, bind it.
        Assert.That(Echo(p, $"{drv}/unbind", "namespace0.0"), Is.EqualTo(12));
        Assert.That(p.Open("/dev/pmem0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        var pfn = Cat(p, $"{Nd}/region0/pfn_seed").Trim();
        Assert.That(pfn, Is.EqualTo("pfn0.0"));
        Assert.That(Echo(p, $"{Nd}/{pfn}/uuid", "a6b7c8d9-0000-4000-8000-000000000001\n"), Is.EqualTo(37));
        Assert.That(Echo(p, $"{Nd}/{pfn}/mode", "pmem\n"), Is.EqualTo(5));
        Assert.That(Echo(p, $"{Nd}/{pfn}/align", "2097152\n"), Is.EqualTo(8));
        Assert.That(Echo(p, $"{Nd}/{pfn}/namespace", "namespace0.0\n"), Is.EqualTo(13));
        Assert.That(Echo(p, $"{drv}/bind", pfn), Is.EqualTo(6));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("memory\n"));
        Assert.That(Cat(p, $"{Nd}/region0/pfn_seed"), Is.EqualTo("pfn0.1\n"), "the probed seed was replaced");
        Assert.That(m.Pmem("pmem0").DataOffset, Is.EqualTo(2UL << 20));
        Assert.That(m.Pmem("pmem0").DaxDev, Is.Not.Null);

        // Look under the info block: release the pfn device (it is not the seed, so it goes away asynchronously), force_raw.
        Assert.That(Echo(p, $"{drv}/unbind", pfn), Is.EqualTo(6));
        Assert.That(Echo(p, $"{Nd}/{pfn}/namespace", "\n"), Is.EqualTo(1));
        Assert.That(p.ListDir(Nd, out var names), Is.EqualTo(0));
        Assert.That(names, Has.No.Member("pfn0.0"), "removed by the work item at system-call exit");
        Assert.That(Echo(p, $"{Nd}/namespace0.0/force_raw", "1"), Is.EqualTo(1));
        Assert.That(Echo(p, $"{drv}/bind", "namespace0.0"), Is.EqualTo(12));
        var sb = ReadDisk(p, "/dev/pmem0", 4096, 4096);
        Assert.That(System.Text.Encoding.ASCII.GetString(sb, 0, 16), Is.EqualTo("NVDIMM_PFN_INFO\0"));
        Assert.That(NvdimmBus.UuidText(sb[16..32]), Is.EqualTo("a6b7c8d9-0000-4000-8000-000000000001"));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(56)), Is.EqualTo(0x200000UL));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(4088)), Is.EqualTo(PfnSb.SbChecksum(sb)));

        // A plain re-enable finds the block again: the namespace probe registers a pfn claim and answers -ENXIO.
        Assert.That(Echo(p, $"{drv}/unbind", "namespace0.0"), Is.EqualTo(12));
        Assert.That(Echo(p, $"{Nd}/namespace0.0/force_raw", "0"), Is.EqualTo(1));
        Assert.That(Echo(p, $"{drv}/bind", "namespace0.0"), Is.EqualTo(-Errno.ENXIO));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/holder"), Is.EqualTo("pfn0.0\n"));
        Assert.That(m.Pmem("pmem0").Mode, Is.EqualTo(NamespaceMode.Fsdax));

        // fsdax → raw as ndctl does it: drop the claim, zero the info block through force_raw, re-enable.
        Assert.That(Echo(p, $"{drv}/unbind", "pfn0.0"), Is.EqualTo(6));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/namespace", ""), Is.EqualTo(0), "an empty write never reaches the store");
        Assert.That(Echo(p, $"{Nd}/pfn0.0/namespace", "\n"), Is.EqualTo(1));
        Assert.That(Echo(p, $"{Nd}/namespace0.0/force_raw", "1"), Is.EqualTo(1));
        Assert.That(Echo(p, $"{drv}/bind", "namespace0.0"), Is.EqualTo(12));
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var zero = p.MapAnonymous(8192);
        Assert.That(p.Pwrite64(fd, zero, 8192, 0), Is.EqualTo(8192));
        p.Close(fd);
        Assert.That(Echo(p, $"{drv}/unbind", "namespace0.0"), Is.EqualTo(12));
        Assert.That(Echo(p, $"{Nd}/namespace0.0/force_raw", "0"), Is.EqualTo(1));
        Assert.That(Echo(p, $"{drv}/bind", "namespace0.0"), Is.EqualTo(12));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("raw\n"));
        Assert.That(m.Pmem("pmem0").DataOffset, Is.Zero);
    }

    private static byte[] ReadDisk(Process p, string dev, long off, int len)
    {
        var fd = (int)p.Open(dev, Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        var u = p.MapAnonymous((ulong)len);
        Assert.That(p.Pread64(fd, u, (ulong)len, off), Is.EqualTo(len));
        var b = new byte[len];
        p.Load(u, b);
        p.Close(fd);
        return b;
    }

    [Test]
    public void BadBlockUnderTheInfoBlock_ValidationCannotReadIt_PfnBindIsEnxio()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem().Build();
        var p = m.Spawn("sh");
        var bus = m.NvdimmBus()!;
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/unbind", "pfn0.1"), Is.EqualTo(6));
        bus.AddBadrange((4UL << 30) + 4096, 512);
        bus.Regions[0].NotifyRevalidatePoison();
        Assert.That(Cat(p, $"{Nd}/region0/badblocks"), Is.EqualTo("8 1\n"));
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "pfn0.1"), Is.EqualTo(-Errno.ENXIO), "nvdimm_read_bytes failed: -ENXIO");
        Assert.That(p.Open("/dev/pmem0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void CorruptChecksum_MeansNoInfoBlock_TheNamespaceComesUpRaw()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem().Build();
        var p = m.Spawn("sh");
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/unbind", "pfn0.1"), Is.EqualTo(6));
        Assert.That(Echo(p, $"{Nd}/pfn0.1/namespace", "\n"), Is.EqualTo(1));
        m.Phys.PokeBytes(new PhysAddr((4UL << 30) + 4096 + 100), [0xff]);
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "namespace0.0"), Is.EqualTo(12));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/mode"), Is.EqualTo("raw\n"));
        Assert.That(m.Pmem("pmem0").DataOffset, Is.Zero);
    }

    [Test]
    public void Stores_RefuseAsTheKernelDoes()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o => o.RegionSize = 128UL << 20).Build();
        var p = m.Spawn("sh");
        var seed = $"{Nd}/namespace0.1";
        Assert.That(Echo(p, $"{seed}/size", "16777216"), Is.EqualTo(-Errno.ENXIO), "uuid not set");
        Assert.That(Echo(p, $"{seed}/uuid", "not-a-uuid"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(Echo(p, $"{seed}/uuid", "00000000-0000-4000-8000-000000000000"), Is.EqualTo(-Errno.EINVAL), "busy: namespace0.0 has it");
        Assert.That(Echo(p, $"{seed}/uuid", "11111111-2222-4333-8444-555555555555"), Is.EqualTo(36));
        Assert.That(Echo(p, $"{seed}/size", "4096"), Is.EqualTo(-Errno.EINVAL), "not a multiple of the 16 MiB region align");
        Assert.That(Echo(p, $"{seed}/size", "134217728"), Is.EqualTo(-Errno.ENOSPC));
        Assert.That(Cat(p, $"{Nd}/region0/available_size"), Is.EqualTo("67108864\n"));
        Assert.That(Echo(p, $"{seed}/size", "33554432"), Is.EqualTo(8));
        Assert.That(Cat(p, $"{seed}/resource"), Is.EqualTo("0x104000000\n"));
        Assert.That(Cat(p, $"{Nd}/region0/max_available_extent"), Is.EqualTo("33554432\n"));
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "namespace0.1"), Is.EqualTo(12));
        Assert.That(m.Pmem("pmem0.1").Disk.SizeBytes, Is.EqualTo(32L << 20));
        Assert.That(Cat(p, $"{Nd}/region0/namespace_seed"), Is.EqualTo("namespace0.2\n"));
        Assert.That(Echo(p, $"{seed}/size", "0"), Is.EqualTo(-Errno.EBUSY), "bound");
        Assert.That(Echo(p, $"{Nd}/pfn0.1/mode", "ram"), Is.EqualTo(-Errno.EBUSY));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/mode", "dev"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/align", "12288"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/namespace", "region0"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/namespace", "namespace0.9"), Is.EqualTo(-Errno.ENODEV));
        Assert.That(Echo(p, $"{Nd}/pfn0.0/namespace", "namespace0.0"), Is.EqualTo(-Errno.EBUSY), "claimed by pfn0.1");
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "namespace0.7"), Is.EqualTo(-Errno.ENODEV));
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "region0"), Is.EqualTo(-Errno.ENODEV), "wrong driver");
        Assert.That(Echo(p, "/sys/bus/nd/drivers/nd_pmem/bind", "pfn0.1"), Is.EqualTo(-Errno.EBUSY));
        Assert.That(Echo(p, $"{Nd}/region0/size", "1"), Is.EqualTo(-Errno.EACCES), "read-only attribute");
        Assert.That(p.Open($"{Nd}/region0/resource", Fcntl.O_RDONLY), Is.GreaterThanOrEqualTo(0));
        p.CapSysAdmin = false;
        Assert.That(p.Open($"{Nd}/region0/resource", Fcntl.O_RDONLY), Is.EqualTo(-Errno.EACCES), "0400");
    }
}
