using System.Runtime.CompilerServices;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Tests.Virtiofs;

/// <summary>The example of docs/virtiofs.md (the doc quotes the body of the first test verbatim; the second test checks that).</summary>
public class VirtioFsDocExampleTests
{
    [Test]
    public void DocExample_HostTruncatesMappedFile_GuestReadLivelocks()
    {
        // BEGIN DOC EXAMPLE
        // Boot Linux 6.12 with a virtio-fs share: 1 GiB DAX window, -o dax=always, and a 4 MiB host file.
        var m = new MachineBuilder().WithKernel("6.12")
            .AddVirtioFs(new VirtioFsOptions { Dax = DaxMountMode.Always, HostFaultPolicy = HostFaultPolicy.UpstreamAsyncLivelock },
                share => share.Host.CreateFile("F", 4 << 20, nodeId: 5))
            .Build();
        var share = VirtioFs.Shares(m).Single();

        // A guest process reads 8 KiB across the first 2 MiB boundary: two SETUPMAPPINGs, 8192 bytes.
        var p = m.Spawn("reader");
        var fd = (int)p.Open(share.PathOf("F"), Fcntl.O_RDONLY);
        var buf = p.MapAnonymous(8192);
        Assert.That(p.Pread64(fd, buf, 8192, (2 << 20) - 4096), Is.EqualTo(8192));
        var setups = share.Log.Where(x => x.Opcode == FuseOpcode.FUSE_SETUPMAPPING).ToList();
        Assert.That(setups.Select(x => (x.Offset, x.MOffset, x.Flags)),
            Is.EqualTo(new[] { (0UL, 0UL, 2UL), (2UL << 20, 2UL << 20, 2UL) }));

        // Another host party truncates F to 2 MiB. The guest's cached size is still 4 MiB, so the same read
        // touches a window page whose host page is gone: KVM's async page fault retries forever.
        share.Host.Truncate("F", 2 << 20);
        Assert.That(p.Pread64(fd, buf, 8192, (2 << 20) - 4096), Is.EqualTo(Machine.NoReturn));
        Assert.That(p.State, Is.EqualTo(ProcessState.Livelocked));
        Assert.That(p.AllSignals, Is.Empty);
        // END DOC EXAMPLE
    }

    [Test]
    public void DocsVirtiofsMd_QuotesTheExampleVerbatim()
    {
        var here = ThisFile();
        var doc = File.ReadAllText(KernelSim.Tests.Cli.RepoFiles.Path("docs/virtiofs.md"));
        var src = File.ReadAllText(here);
        var a = src.IndexOf("// BEGIN DOC EXAMPLE", StringComparison.Ordinal);
        var b = src.IndexOf("// END DOC EXAMPLE", StringComparison.Ordinal);
        var lines = src[a..b].Split('\n').Skip(1).Select(l => l.Length >= 8 ? l[8..] : l.Trim()).ToArray();
        var example = string.Join("\n", lines).TrimEnd();
        Assert.That(doc.Replace("\r\n", "\n"), Does.Contain(example));
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
