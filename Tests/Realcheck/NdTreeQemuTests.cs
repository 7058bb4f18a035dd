using KernelSim.Tests.Infrastructure;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Tests.FsDax;
using KernelSim.Uapi;

namespace KernelSim.Tests.Realcheck;

/// <summary>
/// The label-less vNVDIMM's nd tree as captured on Debian 6.1.0-57 / 6.12.118 under QEMU, 2026-12-05
/// (tools/realcheck/results, docs/crosscheck.md "the nd tree compared attribute by attribute"), pinned on a simulated
/// 6.12 machine with PmemOptions.Platform = Qemu and one 128 MiB raw namespace. Dynamic majors are not pinned.
/// </summary>
public class NdTreeQemuTests
{
    private const string Nd = "/sys/bus/nd/devices";

    private static Process Boot()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
        {
            o.Platform = NvdimmPlatform.Qemu;
            o.Namespaces.Add(new PmemNamespaceSpec(128UL << 20, NamespaceMode.Raw));
        }).Build();
        return m.Spawn("cat");
    }

    private static string Cat(Process p, string path) => Sim.Cat(p, path);

    private static uint Mode(Process p, string path)
    {
        var u = new UserStructs(p);
        Assert.That(p.Stat(path, u.Buf), Is.Zero, path);
        return u.U32(24) & 0xfff;
    }

    [Test]
    public void Bus_CommandsIsCmdCall_DsmMaskPrintsTheKernelsHexZero_NoDevtype()
    {
        var p = Boot();
        Assert.That(Cat(p, $"{Nd}/ndbus0/commands"), Is.EqualTo("cmd_call \n"));
        Assert.That(Cat(p, $"{Nd}/ndbus0/nfit/dsm_mask"), Is.EqualTo("0x0\n"));
        Assert.That(p.Open($"{Nd}/ndbus0/devtype", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void Ndctl0_SitsInTheNdGlueDirectory_ClassAndDevCharLinksFollowIt()
    {
        var p = Boot();
        const string bus = "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0";
        Assert.That(p.ReadLink("/sys/class/nd/ndctl0", out var cls), Is.Zero);
        Assert.That(cls, Is.EqualTo("../../devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/nd/ndctl0"));
        Assert.That(p.ListDir($"{bus}/nd", out var names), Is.Zero);
        Assert.That(names.Where(n => n is not ("." or "..")), Is.EqualTo(new[] { "ndctl0" }));
        var dev = Cat(p, $"{bus}/nd/ndctl0/dev").TrimEnd('\n');
        Assert.That(dev, Does.EndWith(":0"));
        Assert.That(p.ReadLink($"/sys/dev/char/{dev}", out var chr), Is.Zero);
        Assert.That(chr, Does.EndWith("ndbus0/nd/ndctl0"));
        Assert.That(p.Open($"{bus}/ndctl0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void Nmem0_IsIdle_UnderAnActiveRegion_AndItsNfitHandlesPrintWithThePrefix()
    {
        var p = Boot();
        Assert.That(Cat(p, $"{Nd}/region0/init_namespaces"), Is.EqualTo("1/1\n"), "the region is enabled");
        Assert.That(Cat(p, $"{Nd}/nmem0/state"), Is.EqualTo("idle\n"));
        Assert.That(Cat(p, $"{Nd}/nmem0/nfit/phys_id"), Is.EqualTo("0x0\n"));
        Assert.That(Cat(p, $"{Nd}/nmem0/nfit/handle"), Is.EqualTo("0x1\n"), "QEMU: slot + 1");
    }

    [Test]
    public void Region_Align0644_StoreChecksPowerOfTwoPageAndSize_NoPersistenceDomain()
    {
        var p = Boot();
        var align = $"{Nd}/region0/align";
        Assert.That(Mode(p, align), Is.EqualTo(0x1a4u));
        Assert.That(p.Open($"{Nd}/region0/persistence_domain", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.WriteText(align, "2048\n"), Is.EqualTo(-Errno.EINVAL), "below PAGE_SIZE");
        Assert.That(p.WriteText(align, "12288\n"), Is.EqualTo(-Errno.EINVAL), "not a power of two");
        Assert.That(p.WriteText(align, "0x10000000\n"), Is.EqualTo(-Errno.EINVAL), "larger than the 128 MiB region");
        Assert.That(p.WriteText(align, "junk"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(p.WriteText(align, "0x200000\n"), Is.EqualTo(9));
        Assert.That(Cat(p, align), Is.EqualTo("0x200000\n"));
        Assert.That(Cat(p, $"{Nd}/region0/available_size"), Is.EqualTo("0\n"), "the raw namespace spans the region");
    }

    [Test]
    public void Uevent_TargetNode_DeepFlush_AsCaptured()
    {
        var p = Boot();
        Assert.That(Cat(p, $"{Nd}/ndbus0/uevent"), Is.EqualTo("DRIVER=nd_bus\nMODALIAS=nd:t0\n"));
        Assert.That(Cat(p, $"{Nd}/nmem0/uevent"), Does.Match("^MAJOR=[0-9]+\nMINOR=0\nDEVNAME=nmem0\nDEVTYPE=nvdimm\nDRIVER=nvdimm\nMODALIAS=nd:t1\n$"));
        Assert.That(Cat(p, $"{Nd}/region0/uevent"), Is.EqualTo("DEVTYPE=nd_pmem\nDRIVER=nd_region\nMODALIAS=nd:t2\n"));
        Assert.That(Cat(p, $"{Nd}/namespace0.0/uevent"), Is.EqualTo("DEVTYPE=nd_namespace_io\nDRIVER=nd_pmem\nMODALIAS=nd:t4\n"));
        Assert.That(Cat(p, $"{Nd}/btt0.0/uevent"), Is.EqualTo("DEVTYPE=nd_btt\nMODALIAS=nd:t4\n"));
        Assert.That(Cat(p, $"{Nd}/pfn0.0/uevent"), Is.EqualTo("DEVTYPE=nd_pfn\nMODALIAS=nd:t4\n"));
        Assert.That(Cat(p, $"{Nd}/dax0.0/uevent"), Is.EqualTo("DEVTYPE=nd_dax\nMODALIAS=nd:t7\n"));
        Assert.That(Mode(p, $"{Nd}/region0/uevent"), Is.EqualTo(0x1a4u));
        foreach (var d in new[] { "region0", "namespace0.0", "btt0.0", "pfn0.0", "dax0.0" })
            Assert.That(Cat(p, $"{Nd}/{d}/target_node"), Is.EqualTo("0\n"), d);
        Assert.That(p.Open($"{Nd}/nmem0/target_node", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(Cat(p, $"{Nd}/region0/deep_flush"), Is.EqualTo("0\n"));
        Assert.That(Cat(p, $"{Nd}/btt0.0/log_zero_flags"), Is.EqualTo("Y\n"));
        Assert.That(Mode(p, $"{Nd}/region0/deep_flush"), Is.EqualTo(0x124u));
    }
}
