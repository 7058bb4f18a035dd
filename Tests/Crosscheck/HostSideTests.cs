using System.IO.Compression;
using System.Text;
using KernelSim.Profiles;
using KernelSim.Scenarios;
using KernelSim.Scenarios.Crosscheck;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Crosscheck;

/// <summary>The host side without QEMU: package names, .modinfo, the newc archive, the QEMU command line.</summary>
public class HostSideTests
{
    [TestCase("linux-image-6.1.0-57-amd64-unsigned", 6, 1)]
    [TestCase("linux-image-6.12.118+deb12-amd64-unsigned", 6, 12)]
    public void VersionOf_PackageName(string package, int major, int minor) =>
        Assert.That(DebianKernelPackages.VersionOf(package), Is.EqualTo(new KernelVersion(major, minor)));

    [Test]
    public void VersionOf_NotAKernelPackage() => Assert.That(DebianKernelPackages.VersionOf("busybox-static"), Is.Null);

    [Test]
    public void Depends_FromModinfo()
    {
        var ko = Encoding.ASCII.GetBytes("\x7f" + "ELF....\0license=GPL\0depends=libnvdimm,nd_btt\0retpoline=Y\0");
        Assert.That(DebianKernelPackages.Depends(ko), Is.EqualTo(new[] { "libnvdimm", "nd_btt" }));
        Assert.That(DebianKernelPackages.Depends(Encoding.ASCII.GetBytes("\0depends=\0")), Is.Empty);
    }

    [Test]
    public void Initramfs_NewcHeadersPaddingAndTrailer()
    {
        var cpio = new Initramfs().Dir("bin").File("init", "ab"u8.ToArray(), 0x1ed).CharDev("dev/console", 5, 1).Cpio();
        var text = Encoding.ASCII.GetString(cpio);
        Assert.That(text, Does.StartWith("070701" + "00000001" + "000041ED"));
        // "init": header 110 + name 5 = 115, padded to 116, then 2 bytes of data padded to 4.
        var init = text.IndexOf("070701" + "00000002", StringComparison.Ordinal);
        Assert.That(init % 4, Is.Zero);
        Assert.That(text.Substring(init + 14, 8), Is.EqualTo("000081ED"));
        Assert.That(text.Substring(init + 54, 8), Is.EqualTo("00000002"));       // filesize
        Assert.That(text.Substring(init + 110, 5), Is.EqualTo("init\0"));
        Assert.That(text.Substring(init + 116, 2), Is.EqualTo("ab"));
        var dev = text.IndexOf("070701" + "00000003", StringComparison.Ordinal);
        Assert.That(text.Substring(dev + 14, 8), Is.EqualTo("00002180"));
        Assert.That(text.Substring(dev + 78, 16), Is.EqualTo("00000005" + "00000001")); // rdevmajor, rdevminor
        Assert.That(text, Does.Contain("TRAILER!!!\0"));
        Assert.That(cpio.Length % 4, Is.Zero);
        using var gz = new GZipStream(new MemoryStream(new Initramfs().Dir("x").Gzip()), CompressionMode.Decompress);
        using var back = new MemoryStream();
        gz.CopyTo(back);
        Assert.That(Encoding.ASCII.GetString(back.ToArray()), Does.StartWith("070701"));
    }

    [Test]
    public void QemuArguments_NvdimmOrMemmap()
    {
        var k = new KernelImage("p", "r", new KernelVersion(6, 12), "/k/vmlinuz", "/k/mod", "/c");
        var nfit = QemuGuestRunner.Arguments(new GuestPlatform(64UL << 20, false, []), k, "/i.gz");
        Assert.That(string.Join(' ', nfit), Does.StartWith("-machine pc,nvdimm=on -m 512M,slots=2,maxmem=4G -object memory-backend-ram,id=pm0,size=67108864 -device nvdimm,id=nv0,memdev=pm0 "));
        Assert.That(nfit, Does.Contain("-no-reboot"));
        var e820 = QemuGuestRunner.Arguments(new GuestPlatform(64UL << 20, true, []), k, "/i.gz");
        Assert.That(e820[e820.IndexOf("-append") + 1], Is.EqualTo("console=ttyS0 loglevel=1 panic=-1 mitigations=off memmap=64M!256M"));
        Assert.That(e820, Does.Not.Contain("-device"));
    }

    [Test]
    public void Cli_MissingFile_Exit66()
    {
        var (code, _, err) = CliRun.Invoke("crosscheck", "no-such.yaml", "--kernel-package", "linux-image-6.12.118+deb12-amd64-unsigned");
        Assert.That(code, Is.EqualTo(66));
        Assert.That(err, Is.EqualTo("kernelsim: no-such.yaml: no such file\n"));
    }

    [Test]
    public void Cli_NotAKernelPackage_IsUsageErrorBeforeAnyDownload()
    {
        var (code, _, err) = CliRun.Invoke("crosscheck", RepoFiles.Path("scenarios/mm-signals.yaml"), "--kernel-package", "busybox-static");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Is.EqualTo("kernelsim: --kernel-package 'busybox-static': not a Debian kernel image package name (e.g. linux-image-6.12.118+deb12-amd64-unsigned)\nRun 'kernelsim --help' for usage.\n"));
        (code, _, err) = CliRun.Invoke("crosscheck", RepoFiles.Path("scenarios/mm-signals.yaml"), "--kernel-package", "linux-image-4.9.0-19-amd64");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("kernelsim: --kernel-package 'linux-image-4.9.0-19-amd64': Linux 4.9 is not a modelled release; KernelSim models 4.17–4.20,"));
    }
}
