using System.Buffers.Binary;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>/dev/ndctl0 and /dev/nmemN: __nd_ioctl's validation and nfit_test_ctl's replies, byte for byte.</summary>
public class NdIoctlTests
{
    private static uint Nd(uint nr, uint size) => Ioctl.IOWR('N', nr, size);

    private sealed class Ctl
    {
        public Ctl(NvdimmPlatform platform = NvdimmPlatform.NfitTest)
        {
            M = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
            {
                o.Platform = platform;
                o.Namespaces.Add(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
            }).Build();
            P = M.Spawn("ioctl");
            U = P.MapAnonymous(PageDefs.PAGE_SIZE);
        }

        public Machine M { get; }
        public Process P { get; }
        public UserPtr U { get; }

        public int Open(string dev, int flags = Fcntl.O_RDWR) => (int)P.Open(dev, flags);

        public long Call(int fd, uint nr, byte[] buf)
        {
            P.Store(U, buf);
            var rc = P.Ioctl(fd, Nd(nr, (uint)Math.Min(buf.Length, 64)), U.Value);
            P.Load(U, buf);
            return rc;
        }

        public static byte[] Pkg(ulong family, ulong func, int sizeIn, int sizeOut)
        {
            var b = new byte[64 + sizeIn + sizeOut];
            BinaryPrimitives.WriteUInt64LittleEndian(b, family);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), func);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), (uint)sizeIn);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), (uint)sizeOut);
            return b;
        }
    }

    [Test]
    public void Nodes_AreCharacterDevices_0600_WithTheirDevT_AndRefuseReadWrite()
    {
        var c = new Ctl();
        Assert.That(c.P.ReadText("/sys/class/nd/ndctl0/dev", out var dev), Is.Zero);
        Assert.That(dev, Is.EqualTo("250:0\n"));
        Assert.That(c.P.ReadLink("/sys/dev/char/250:0", out var link), Is.Zero);
        Assert.That(link, Is.EqualTo("../../devices/platform/nfit_test.0/ndbus0/nd/ndctl0"));
        Assert.That(c.P.ReadText("/sys/bus/nd/devices/nmem0/dev", out dev), Is.Zero);
        Assert.That(dev, Is.EqualTo("249:0\n"));
        var fd = c.Open("/dev/ndctl0");
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(c.P.Read(fd, c.U, 16), Is.EqualTo(-Errno.EINVAL), "nvdimm_bus_fops has no read");
        var nobody = c.M.Spawn("user");
        nobody.CapSysAdmin = false;
        Assert.That(nobody.Open("/dev/nmem0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.EACCES), "crw------- root");
    }

    [Test]
    public void ArsCap_FillsStatusMaxArsOutAndClearErrUnit()
    {
        var c = new Ctl();
        var b = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 4UL << 30);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 4096);
        Assert.That(c.Call(c.Open("/dev/ndctl0"), 1, b), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16)), Is.EqualTo(0x30000u), "(ND_ARS_PERSISTENT | ND_ARS_VOLATILE) << 16");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20)), Is.EqualTo(48u + 170 * 24), "sizeof(nd_cmd_ars_status) + 170 records");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)), Is.EqualTo(256u));
        Assert.That(b.AsSpan(28, 4).ToArray(), Is.EqualTo(new byte[4]), "reserved stays");
    }

    [Test]
    public void ArsStartThenStatus_BusyForOneSecond_ThenTheInjectedRecord()
    {
        var c = new Ctl();
        var fd = c.Open("/dev/ndctl0");
        var inj = Ctl.Pkg(0, 7, 17, 4);
        BinaryPrimitives.WriteUInt64LittleEndian(inj.AsSpan(64), (4UL << 30) + 8192);
        BinaryPrimitives.WriteUInt64LittleEndian(inj.AsSpan(72), 256);
        Assert.That(c.Call(fd, 10, inj), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(inj.AsSpan(64 + 17)), Is.Zero, "status");
        var start = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(start, 4UL << 30);
        BinaryPrimitives.WriteUInt64LittleEndian(start.AsSpan(8), 64UL << 20);
        Assert.That(c.Call(fd, 2, start), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(start.AsSpan(24)), Is.Zero, "status");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(start.AsSpan(28)), Is.EqualTo(1u), "scrub_time");
        Assert.That(c.Call(fd, 2, start), Is.Zero, "the ioctl succeeds ...");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(start.AsSpan(24)), Is.EqualTo(6u), "... with NFIT_ARS_START_BUSY");
        var status = new byte[48 + 24];
        BinaryPrimitives.WriteUInt32LittleEndian(status.AsSpan(4), (uint)status.Length);
        Assert.That(c.Call(fd, 3, status), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(status), Is.EqualTo(1u << 16), "NFIT_ARS_STATUS_BUSY");
        Assert.That(c.P.Nanosleep(1_000_000_000), Is.Zero);
        BinaryPrimitives.WriteUInt32LittleEndian(status.AsSpan(4), (uint)status.Length);
        Assert.That(c.Call(fd, 3, status), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(status), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(status.AsSpan(4)), Is.EqualTo(72u), "out_length");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(status.AsSpan(44)), Is.EqualTo(1u), "num_records");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(status.AsSpan(56)), Is.EqualTo((4UL << 30) + 8192));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(status.AsSpan(64)), Is.EqualTo(256UL));
        Assert.That(c.M.Pmem("pmem0").Disk.BadblocksShow(), Is.Empty, "a user ARS does not feed the kernel's badrange");
    }

    [Test]
    public void ClearError_ThroughTheBus_ForgetsTheBadrangeAndRegionBadblocks()
    {
        var c = new Ctl();
        Assert.That(Ndctl.Run(c.P, "inject-error namespace0.0 -B 16 -n 1 --saturate").Rc, Is.Zero);
        var region = c.M.NvdimmBus()!.Regions[0];
        Assert.That(region.Bb.Show(), Is.EqualTo("16 1\n"));
        var b = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (4UL << 30) + 16 * 512);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 512);
        Assert.That(c.Call(c.Open("/dev/ndctl0"), 4, b), Is.Zero);
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(24)), Is.EqualTo(512UL), "cleared");
        Assert.That(region.Bb.Show(), Is.Empty, "nvdimm_account_cleared_poison");
        Assert.That(c.M.Pmem("pmem0").Disk.BadblocksShow(), Is.EqualTo("16 1\n"), "the disk's table waits for a revalidation");
        BinaryPrimitives.WriteUInt64LittleEndian(b, (4UL << 30) + 100);
        Assert.That(c.Call(c.Open("/dev/ndctl0"), 4, b), Is.EqualTo(-Errno.EINVAL), "nfit_test: unaligned to clear_err_unit");
    }

    [Test]
    public void ClearError_OverAWholeEnabledNamespace_IsBusy()
    {
        var c = new Ctl();
        var b = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 4UL << 30);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 64UL << 20);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 64UL << 20); // nd_cmd_clear_to_send looks at the caller's "cleared"
        Assert.That(c.Call(c.Open("/dev/ndctl0"), 4, b), Is.EqualTo(-Errno.EBUSY));
    }

    [Test]
    public void SmartInject_FatalAndTemperature_ThenSmartReadsThem_AndTheHealthEventFires()
    {
        var c = new Ctl();
        var fd = c.Open("/dev/nmem0");
        var inj = Ctl.Pkg(0, 18, 15, 4);
        BinaryPrimitives.WriteUInt64LittleEndian(inj.AsSpan(64), NdIntelSmart.INJECT_MTEMP | NdIntelSmart.INJECT_FATAL);
        inj[64 + 8] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(inj.AsSpan(64 + 9), 60 * 16);
        inj[64 + 13] = 1;
        Assert.That(c.Call(fd, 10, inj), Is.Zero);
        var dimm = c.M.NvdimmBus()!.Dimms[0];
        Assert.That(dimm.HealthEvents, Is.EqualTo(1), "smart_notify: temperature over the 40 °C threshold and fatal health");
        var smart = Ctl.Pkg(0, 1, 0, 132);
        Assert.That(c.Call(fd, 10, smart), Is.Zero);
        var d = smart.AsSpan(64);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(d), Is.Zero, "status");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(d[4..]), Is.EqualTo(0x63fu), "flags of smart_def");
        Assert.That(d[12], Is.EqualTo(NdIntelSmart.FATAL_HEALTH));
        Assert.That(d[13], Is.EqualTo(75), "spares");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(d[16..]), Is.EqualTo(60 * 16));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(d[20..]), Is.EqualTo(42u), "shutdown_count");
        var thr = Ctl.Pkg(0, 2, 0, 12);
        Assert.That(c.Call(fd, 10, thr), Is.Zero);
        Assert.That(thr.AsSpan(68, 7).ToArray(), Is.EqualTo(new byte[] { 3, 0, 5, 0x80, 2, 0xe0, 1 }), "alarm_control, spares, 40 °C, 30 °C");
    }

    [TestCase(NvdimmPlatform.NfitTest, "/dev/ndctl0", Fcntl.O_RDONLY, 4u, -Errno.EPERM)]
    [TestCase(NvdimmPlatform.NfitTest, "/dev/ndctl0", Fcntl.O_RDONLY, 1u, 0)]
    [TestCase(NvdimmPlatform.NfitTest, "/dev/ndctl0", Fcntl.O_RDWR, 5u, -Errno.ENOTTY)]
    [TestCase(NvdimmPlatform.NfitTest, "/dev/ndctl0", Fcntl.O_RDWR, 11u, -Errno.ENOTTY)]
    [TestCase(NvdimmPlatform.NfitTest, "/dev/nmem0", Fcntl.O_RDWR, 1u, -Errno.ENOTTY)]
    [TestCase(NvdimmPlatform.NfitTest, "/dev/nmem0", Fcntl.O_RDWR, 3u, -Errno.ENOTTY)]
    [TestCase(NvdimmPlatform.Qemu, "/dev/ndctl0", Fcntl.O_RDWR, 1u, -Errno.ENOTTY)]
    [TestCase(NvdimmPlatform.Qemu, "/dev/ndctl0", Fcntl.O_RDWR, 4u, -Errno.ENOTTY)]
    [TestCase(NvdimmPlatform.E820, "/dev/ndctl0", Fcntl.O_RDWR, 1u, -Errno.ENOTTY)]
    public void FixedSizeCommands_MaskAndReadOnlyRules(NvdimmPlatform platform, string dev, int flags, uint nr, long rc)
    {
        var c = new Ctl(platform);
        Assert.That(c.Call(c.Open(dev, flags), nr, new byte[32]), Is.EqualTo(rc));
    }

    [TestCase("/dev/ndctl0", 1ul, 7ul, -Errno.EINVAL)]   // bus family NVDIMM_BUS_FAMILY_INTEL: not in the bus family mask
    [TestCase("/dev/ndctl0", 9ul, 7ul, -Errno.EINVAL)]   // > NVDIMM_BUS_FAMILY_MAX
    [TestCase("/dev/nmem0", 6ul, 1ul, -Errno.EINVAL)]    // > NVDIMM_FAMILY_MAX
    [TestCase("/dev/nmem0", 1ul, 1ul, -Errno.EINVAL)]    // NVDIMM_FAMILY_HPE1: not in the DIMM family mask
    [TestCase("/dev/ndctl0", 0ul, 5ul, -Errno.ENOTTY)]   // NFIT_CMD_TRANSLATE_SPA: not modelled
    [TestCase("/dev/nmem0", 0ul, 14ul, -Errno.ENOTTY)]   // ND_INTEL_FW_GET_INFO: not modelled
    public void CallPackage_FamilyAndFunctionChecks(string dev, ulong family, ulong func, long rc)
    {
        var c = new Ctl();
        Assert.That(c.Call(c.Open(dev), 10, Ctl.Pkg(family, func, 16, 16)), Is.EqualTo(rc));
    }

    [Test]
    public void CallPackage_WrongPayloadSizes_AreEinval_WithStatus2ForInjection()
    {
        var c = new Ctl();
        var inj = Ctl.Pkg(0, 7, 16, 4); // one byte short of struct nd_cmd_ars_err_inj
        Assert.That(c.Call(c.Open("/dev/ndctl0"), 10, inj), Is.EqualTo(-Errno.EINVAL));
        Assert.That(c.Call(c.Open("/dev/nmem0"), 10, Ctl.Pkg(0, 18, 15, 8)), Is.EqualTo(-Errno.EINVAL), "smart inject needs exactly 19 bytes");
        Assert.That(c.Call(c.Open("/dev/nmem0"), 10, Ctl.Pkg(0, 1, 0, 64)), Is.EqualTo(-Errno.EINVAL), "smart needs 132 bytes");
        var zero = Ctl.Pkg(0, 7, 17, 4);
        Assert.That(c.Call(c.Open("/dev/ndctl0"), 10, zero), Is.EqualTo(-Errno.EINVAL), "zero length");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(zero.AsSpan(64 + 17)), Is.Zero, "an error from the provider skips copy_to_user");
    }

    [Test]
    public void BadUserPointers_AreEfault_AndTooLargeBuffersEinval()
    {
        var c = new Ctl();
        var fd = c.Open("/dev/ndctl0");
        Assert.That(c.P.Ioctl(fd, Nd(1, 32), 0x1000), Is.EqualTo(-Errno.EFAULT), "unmapped");
        Assert.That(c.P.Ioctl(fd, Nd(10, 64), 0x1000), Is.EqualTo(-Errno.EFAULT), "the package header cannot be read");
        var last = c.U + (PageDefs.PAGE_SIZE - 64);
        c.P.Store(last, Ctl.Pkg(0, 9, 0, 16).AsSpan(0, 64).ToArray());
        Assert.That(c.P.Ioctl(fd, Nd(10, 64), last.Value), Is.EqualTo(-Errno.EFAULT), "the payload runs off the mapping");
        var big = Ctl.Pkg(0, 9, 0, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(big.AsSpan(20), 5u << 20);
        c.P.Store(c.U, big);
        Assert.That(c.P.Ioctl(fd, Nd(10, 64), c.U.Value), Is.EqualTo(-Errno.EINVAL), "over ND_IOCTL_MAX_BUFLEN");
    }
}
