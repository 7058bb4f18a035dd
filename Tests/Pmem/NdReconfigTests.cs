using System.Buffers.Binary;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using KernelSim.Block;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// A label-less namespace taken through every mode by sysfs writes alone (issue 18's "must show"): raw → fsdax → raw →
/// devdax → raw → sector, each info block read back from the media through force_raw.
/// </summary>
public class NdReconfigTests
{
    private const ulong Base = 4UL << 30, M2 = 2UL << 20;
    private const string PfnUuid = "a6b7c8d9-0000-4000-8000-000000000001", DaxUuid = "a6b7c8d9-0000-4000-8000-000000000002",
        BttUuid = "a6b7c8d9-0000-4000-8000-000000000003";

    internal static Machine Qemu(string kernel = "6.12") => new MachineBuilder().WithKernel(kernel).AddPmem(o =>
    {
        o.Platform = NvdimmPlatform.Qemu;
        o.Namespaces.Add(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
    }).Build();

    private static string Sig(byte[] block, int at = 4096) => System.Text.Encoding.ASCII.GetString(block, at, 16);

    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));

    [Test]
    public void RawFsdaxRawDevdaxRawSector_PurelyThroughSysfs_EachInfoBlockCheckedThroughForceRaw()
    {
        var m = Qemu();
        var p = m.Spawn("sh");
        var s = new NdByHand(p);
        Assert.That(s.Cat("namespace0.0/mode"), Is.EqualTo("raw"));

        // raw → fsdax: the pfn seed, memmap on the device, 2 MiB pages.
        Assert.That(s.ToPfnOrDax(dax: false, PfnUuid, M2), Is.EqualTo("pfn0.0"));
        Assert.That(s.Cat("namespace0.0/mode"), Is.EqualTo("memory"));
        Assert.That(s.Cat("region0/pfn_seed"), Is.EqualTo("pfn0.1"));
        Assert.That(m.Pmem("pmem0").DataOffset, Is.EqualTo(M2));

        // fsdax → raw: the info block written at 4 KiB is seen through force_raw, then zeroed.
        var head = s.ToRaw();
        Assert.That(Sig(head), Is.EqualTo("NVDIMM_PFN_INFO\0"));
        Assert.That(NvdimmBus.UuidText(head[4112..4128]), Is.EqualTo(PfnUuid));
        Assert.That(head[4128..4144], Is.All.Zero, "parent_uuid of a label-less namespace");
        Assert.That(U64(head, 4096 + 56), Is.EqualTo(M2), "dataoff");
        Assert.That(U64(head, 8184), Is.EqualTo(PfnSb.SbChecksum(head[4096..])));
        Assert.That(s.Cat("namespace0.0/mode"), Is.EqualTo("raw"));
        Assert.That(m.Pmem("pmem0").DataOffset, Is.Zero);

        // raw → devdax: the dax seed, 2 MiB alignment; /dev/dax0.0 below it.
        Assert.That(s.ToPfnOrDax(dax: true, DaxUuid, M2), Is.EqualTo("dax0.0"));
        Assert.That(s.Cat("namespace0.0/mode"), Is.EqualTo("dax"));
        Assert.That(s.Cat("dax0.0/dax0.0/size"), Is.EqualTo("65011712"));
        Assert.That(p.Open("/dev/pmem0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.GreaterThanOrEqualTo(0));

        // devdax → raw: the DAX signature.
        head = s.ToRaw();
        Assert.That(Sig(head), Is.EqualTo("NVDIMM_DAX_INFO\0"));
        Assert.That(NvdimmBus.UuidText(head[4112..4128]), Is.EqualTo(DaxUuid));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4096 + 84)), Is.EqualTo((uint)M2), "align");
        Assert.That(U64(head, 8184), Is.EqualTo(PfnSb.SbChecksum(head[4096..])));
        Assert.That(p.Open("/dev/dax0.0", Fcntl.O_RDWR), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.ReadLink("/sys/bus/dax/devices/dax0.0", out _), Is.EqualTo(-Errno.ENOENT));

        // raw → sector: the btt seed with 4096-byte sectors writes a new BTT layout; /dev/pmem0s.
        Assert.That(s.ToSector(BttUuid, 4096), Is.EqualTo("btt0.0"));
        Assert.That(s.Cat("namespace0.0/mode"), Is.EqualTo("safe"));
        Assert.That(s.Cat("btt0.0/size"), Is.EqualTo("65961984"), "external_nlba 16104 · 4096");
        Assert.That(m.State.Dmesg, Does.Contain("nd_btt namespace0.0: No existing arenas"));

        // The BTT info block on the media, through force_raw; a plain enable then finds it (nd_btt_probe).
        s.Disable();
        var btt = s.ReadThroughForceRaw();
        Assert.That(Sig(btt), Is.EqualTo("BTT_ARENA_INFO\0\0"));
        Assert.That(NvdimmBus.UuidText(btt[4112..4128]), Is.EqualTo(BttUuid));
        Assert.That(btt[4128..4144], Is.All.Zero, "parent_uuid");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(btt.AsSpan(4096 + 56)), Is.EqualTo(4096u), "external_lbasize");
        Assert.That(U64(btt, 8184), Is.EqualTo(NdChecksum.SbChecksum(btt[4096..])));
        Assert.That(p.WriteText("/sys/bus/nd/drivers/nd_pmem/bind", "namespace0.0"), Is.EqualTo(-Errno.ENXIO), "claimed by the btt device it found");
        Assert.That(s.Cat("namespace0.0/mode"), Is.EqualTo("safe"));
        Assert.That(s.Cat("namespace0.0/holder"), Is.EqualTo("btt0.0"));
        Assert.That(s.Cat("btt0.0/uuid"), Is.EqualTo(BttUuid));
        Assert.That(s.Cat("btt0.0/sector_size"), Is.EqualTo("512 520 528 [4096] 4104 4160 4224 "));
        Assert.That(p.Open("/dev/pmem0s", Fcntl.O_RDONLY), Is.GreaterThanOrEqualTo(0));
        var media = new byte[4096];
        m.Phys.PeekBytes(new PhysAddr(Base + 4096), media);
        Assert.That(media, Is.EqualTo(btt[4096..]));
    }

    /// <summary>What a user sees of the namespace: nd devices, mode, holder and its driver, /dev nodes, and every byte of the region.</summary>
    private static (string Devices, string Mode, string Holder, string Dev, byte[] Media) State(Machine m, Process p)
    {
        var s = new NdByHand(p);
        Assert.That(p.ListDir(NdByHand.Nd, out var nd), Is.EqualTo(0));
        var devfs = m.Services.GetRequiredService<DevTmpFs>();
        var dev = devfs.Nodes.Keys.Concat(devfs.CharNodes.Keys).Order(StringComparer.Ordinal).ToList();
        var holder = s.Cat("namespace0.0/holder");
        var bound = holder != "" && p.ReadLink($"{NdByHand.Nd}/{holder}/driver", out var drv) == 0 ? drv[(drv.LastIndexOf('/') + 1)..] : "-";
        var media = new byte[64 << 20];
        m.Phys.PeekBytes(new PhysAddr(Base), media);
        return (string.Join(" ", nd), s.Cat("namespace0.0/mode"), $"{holder} ({bound})",
            string.Join(" ", dev.Where(d => d.StartsWith("pmem", StringComparison.Ordinal) || d.StartsWith("dax", StringComparison.Ordinal))), media);
    }

    [Test]
    public void TheSameSequenceThroughNdctl_GivesTheSameDevicesAndMedia()
    {
        var a = Qemu();
        var b = Qemu();
        var nd = a.Spawn("ndctl");
        var sh = b.Spawn("sh");
        var hand = new NdByHand(sh);
        string[] expectDev = ["pmem0", "pmem0", "dax0.0", "pmem0", "pmem0s"];
        string[] modes = ["fsdax", "raw", "devdax -a 2M", "raw", "sector -l 4096"];
        for (var i = 0; i < modes.Length; i++)
        {
            var r = Ndctl.Run(nd, $"create-namespace -f -e namespace0.0 -m {modes[i]}");
            Assert.That(r.Rc, Is.Zero, r.Stderr);
            var holder = new NdByHand(nd).Cat("namespace0.0/holder");
            var uuid = holder == "" ? "" : new NdByHand(nd).Cat($"{holder}/uuid");
            switch (modes[i].Split(' ')[0])
            {
                case "fsdax": hand.ToPfnOrDax(dax: false, uuid, M2); break;
                case "devdax": hand.ToPfnOrDax(dax: true, uuid, M2); break;
                case "sector": hand.ToSector(uuid, 4096); break;
                default: hand.ToRaw(); break;
            }
            var (sa, sb) = (State(a, nd), State(b, sh));
            Assert.That((sb.Devices, sb.Mode, sb.Holder, sb.Dev), Is.EqualTo((sa.Devices, sa.Mode, sa.Holder, sa.Dev)), modes[i]);
            Assert.That(sb.Dev, Is.EqualTo(expectDev[i]), modes[i]);
            var diff = -1;
            for (var k = 0; k < sa.Media.Length && diff < 0; k++) if (sa.Media[k] != sb.Media[k]) diff = k;
            Assert.That(diff, Is.EqualTo(-1), $"{modes[i]}: media differ at byte 0x{diff:x}");
        }
        Assert.That(State(a, nd).Mode, Is.EqualTo("safe"));
    }
}
