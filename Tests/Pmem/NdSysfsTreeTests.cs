using System.Security.Cryptography;
using System.Text;
using KernelSim.Profiles;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// The whole /sys tree of a machine with persistent memory: every node's path, inode number and mode, every link's
/// target and every readable attribute's text (read with read(2) by root). Pinned against the tree recorded at 4d5785c,
/// before the nvdimm attributes took their device as an argument and kernfs directories stopped indexing small ones
/// (issue 17, eighth round), and the same for a machine booted from an image as for one built.
/// </summary>
public class NdSysfsTreeTests
{
    /// <summary>The campaigns' machine: 6.12, ERMS, 64 MiB of DRAM, one 16 MiB fsdax namespace.</summary>
    private static MachineBuilder Campaign() => new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString).WithDram(64UL << 20)
        .AddPmem(new PmemNamespaceSpec(16UL << 20)).AddDaxFs();

    /// <summary>nfit_test with two interleaved DIMMs and fsdax, devdax and sector namespaces (labels, every claim kind).</summary>
    private static MachineBuilder Mixed() => new MachineBuilder().WithKernel("6.12").AddPmem(o =>
    {
        o.Regions.Add(new PmemRegionSpec(0)
        {
            Dimms = 2,
            Namespaces = [new PmemNamespaceSpec(32UL << 20), new PmemNamespaceSpec(32UL << 20, NamespaceMode.Devdax), new PmemNamespaceSpec(32UL << 20, NamespaceMode.Sector)],
        });
    });

    private static string Dump(Machine m)
    {
        var sys = m.Services.GetRequiredService<Sysfs>();
        var p = m.Spawn("walk");
        var o = new StringBuilder();
        void Walk(KernfsDir d)
        {
            foreach (var n in d.Children)
            {
                o.Append(n.Path).Append(' ').Append(n.Ino).Append(' ').Append(Convert.ToString(n.Mode, 8));
                switch (n)
                {
                    case KernfsLink l:
                        o.Append(" -> ").Append(l.TargetPath());
                        break;
                    case KernfsFileNode { CanRead: true }:
                        var rc = p.ReadText("/sys/" + n.Path, out var text);
                        o.Append(' ').Append(rc).Append(" \"").Append(text.Replace("\n", "\\n")).Append('"');
                        break;
                }
                o.Append('\n');
                if (n is KernfsDir sub) Walk(sub);
            }
        }
        Walk(sys.Root);
        return o.ToString();
    }

    private static string Sha(string s) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    [Test]
    public void CampaignMachine_SysfsTree_IsTheRecordedOne_BuiltOrBootedFromAnImage()
    {
        var built = Dump(Campaign().Build());
        Assert.That(built, Does.Contain("devices/platform/nfit_test.0/ndbus0/region0/size 83 100444 0 \"16777216\\n\"\n"));
        Assert.That(built, Does.Contain("bus/nd/devices/pfn0.0 ").And.Contain("ndbus0/region0/pfn0.0/mode "));
        Assert.That(Sha(built), Is.EqualTo("05BEEA7FB478CF0D1C5491C8EA1E1253B9CD3BB025B5005D64E9BADC00D02DBE"), built);
        var image = Campaign().Prepare();
        for (var i = 0; i < 2; i++) Assert.That(Dump(image.Boot()), Is.EqualTo(built), $"machine {i} of the image");
    }

    [Test]
    public void MixedNamespaces_SysfsTree_IsTheRecordedOne_BuiltOrBootedFromAnImage()
    {
        var built = Dump(Mixed().Build());
        Assert.That(Sha(built), Is.EqualTo("C38C8E2A4E1ACEEBFD5C4156956177B8F4AB53AB67F1BAB6A9B844645D6DF755"), built);
        Assert.That(Dump(Mixed().Prepare().Boot()), Is.EqualTo(built));
    }
}
