using System.Buffers.Binary;
using KernelSim.Block;
using KernelSim.Fs;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem.NdctlTool;

/// <summary>
/// A hand-built libnvdimm sysfs tree shaped like Linux 6.1 with nfit_test / QEMU (drivers/nvdimm/bus.c, core.c,
/// dimm_devs.c, region_devs.c, namespace_devs.c, drivers/acpi/nfit/core.c attribute names and formats), with
/// /dev/ndctl0 and /dev/nmem0 answering the ioctls from a small firmware double. It pins ndctl's parsing and output
/// without the kernel-side drivers: one bus (ACPI.NFIT), one DIMM nmem0, one label-less region0 (nstype 4) with
/// namespace0.0 in raw mode as /dev/pmem0, and idle pfn0.0 / dax0.0 / btt0.0 seeds.
/// </summary>
internal sealed class FakeNdBus
{
    public const ulong RegionStart = 0x1_0000_0000, RegionSize = 64UL << 20;

    public Machine M { get; } = Sim.Boot("6.12");
    public Process P { get; }
    public KernfsDir Bus { get; }
    public KernfsDir Region { get; }
    public KernfsDir Ns { get; }
    public string Badblocks = "";
    public int ScrubCount;
    public bool ScrubActive;
    public uint ClearErrUnit = 256;
    public bool NsEnabled = true, RegionEnabled = true;

    /// <summary>The injected (SPA, length) records ARS_INJECT_GET reports.</summary>
    public List<(ulong Spa, ulong Len)> Injected { get; } = [];

    /// <summary>Every ioctl: (device, ioctl number, first bytes of the buffer).</summary>
    public List<(string Dev, uint Cmd, byte[] Buf)> Ioctls { get; } = [];

    // Intel SMART state (struct nd_intel_smart fields and thresholds).
    public byte Health, Spares = 100, ShutdownState;
    public byte Alarm { get; set; }
    public ushort MediaTemp = 23 * 16, CtrlTemp = 30 * 16, ThrMediaTemp = 40 * 16, ThrCtrlTemp = 30 * 16;
    public byte ThrSpares = 5;
    public ushort AlarmControl;
    public uint ShutdownCount = 3;

    public FakeNdBus()
    {
        P = M.Spawn("ndctl");
        var sys = M.Services.GetRequiredService<Sysfs>().Root;
        var bus = sys.Dir("devices/platform/ACPI0012:00/ndbus0");
        Bus = bus;
        bus.Attr("commands", 0x124, () => "ars_cap ars_start ars_status clear_error \n");
        bus.Attr("provider", 0x124, () => "ACPI.NFIT\n");
        bus.Attr("wait_probe", 0x124, () => "0\n");
        var nfit = bus.Dir("nfit");
        nfit.Attr("revision", 0x124, () => "1\n");
        nfit.Attr("dsm_mask", 0x124, () => "0x3bf\n");
        nfit.Attr("scrub", 0x1a4, () => ScrubActive ? $"{ScrubCount}+\n" : $"{ScrubCount}\n", s =>
        {
            if (s.Trim() != "1") return -Errno.EINVAL;
            ScrubActive = true;
            M.WorkQueue.Schedule("fake ars", () => { ScrubActive = false; ScrubCount++; });
            return s.Length;
        });
        var ctl = bus.Dir("ndctl0");
        ctl.Attr("dev", 0x124, () => "250:0\n");
        ctl.Add(new KernfsLink("device", bus));
        sys.Dir("class/nd").Add(new KernfsLink("ndctl0", ctl));
        sys.Dir("dev/char").Add(new KernfsLink("250:0", ctl));

        var nmem = bus.Dir("nmem0");
        nmem.Attr("dev", 0x124, () => "251:0\n");
        nmem.Attr("commands", 0x124, () => "smart smart_thresh flags get_size get_data set_data cmd_call \n");
        nmem.Attr("modalias", 0x124, () => "nd:t1\n");
        nmem.Attr("flags", 0x124, () => "\n");
        var dn = nmem.Dir("nfit");
        dn.Attr("handle", 0x124, () => "0x1\n");
        dn.Attr("phys_id", 0x124, () => "0x0\n");
        dn.Attr("id", 0x124, () => "8089-a2-1740-00000000\n");
        dn.Attr("family", 0x124, () => "0\n");
        dn.Attr("dsm_mask", 0x124, () => "0x60006\n");
        dn.Attr("flags", 0x124, () => "\n");

        var drivers = sys.Dir("bus/nd/drivers");
        var nvdimmDrv = drivers.Dir("nvdimm");
        var regionDrv = drivers.Dir("nd_region");
        var pmemDrv = drivers.Dir("nd_pmem");
        nmem.Add(new KernfsLink("driver", nvdimmDrv));

        var region = bus.Dir("region0");
        Region = region;
        region.Attr("size", 0x124, () => $"{RegionSize}\n");
        region.Attr("mappings", 0x124, () => "1\n");
        region.Attr("mapping0", 0x124, () => $"nmem0,0,{RegionSize},0\n");
        region.Attr("read_only", 0x124, () => "0\n");
        region.Attr("modalias", 0x124, () => "nd:t2\n");
        region.Attr("numa_node", 0x124, () => "0\n");
        region.Attr("align", 0x124, () => "16777216\n");
        region.Attr("nstype", 0x124, () => "4\n");
        region.Attr("persistence_domain", 0x124, () => "memory_controller\n");
        region.Attr("resource", 0x100, () => $"0x{RegionStart:x}\n");
        region.Attr("available_size", 0x124, () => "0\n");
        region.Attr("max_available_extent", 0x124, () => "0\n");
        region.Attr("badblocks", 0x124, () => Badblocks);
        region.Attr("namespace_seed", 0x124, () => "namespace0.0\n");
        region.Attr("pfn_seed", 0x124, () => "pfn0.0\n");
        region.Attr("dax_seed", 0x124, () => "dax0.0\n");
        region.Attr("btt_seed", 0x124, () => "btt0.0\n");
        region.Add(new KernfsLink("driver", regionDrv));

        var ns = region.Dir("namespace0.0");
        Ns = ns;
        ns.Attr("nstype", 0x124, () => "4\n");
        ns.Attr("size", 0x124, () => $"{RegionSize}\n");
        ns.Attr("resource", 0x100, () => $"0x{RegionStart:x}\n");
        ns.Attr("force_raw", 0x1a4, () => "0\n", s => s.Length);
        ns.Attr("numa_node", 0x124, () => "0\n");
        ns.Attr("holder", 0x124, () => "\n");
        ns.Attr("holder_class", 0x1a4, () => "\n", s => s.Length);
        ns.Attr("mode", 0x124, () => "raw\n");
        ns.Attr("modalias", 0x124, () => "nd:t4\n");
        ns.Dir("block/pmem0");
        ns.Add(new KernfsLink("driver", pmemDrv));
        foreach (var (name, align) in new[] { ("pfn0.0", true), ("dax0.0", true) })
        {
            var d = region.Dir(name);
            d.Attr("modalias", 0x124, () => "nd:t7\n");
            d.Attr("uuid", 0x1a4, () => "\n", s => s.Length);
            d.Attr("mode", 0x1a4, () => "none\n", s => s.Length);
            if (align) d.Attr("align", 0x1a4, () => "2097152\n", s => s.Length);
            d.Attr("supported_alignments", 0x124, () => "4096 2097152 1073741824 \n");
            d.Attr("namespace", 0x1a4, () => "\n", s => s.Length);
        }
        var btt = region.Dir("btt0.0");
        btt.Attr("modalias", 0x124, () => "nd:t5\n");
        btt.Attr("uuid", 0x1a4, () => "\n", s => s.Length);
        btt.Attr("sector_size", 0x1a4, () => "512 520 528 4096 4104 4160 4224 \n", s => s.Length);
        btt.Attr("namespace", 0x1a4, () => "\n", s => s.Length);
        sys.Dir("block/pmem0").Attr("badblocks", 0x1a4, () => "", s => s.Length);

        var dev = M.Services.GetRequiredService<DevTmpFs>();
        dev.AddCharNode("ndctl0", 250, 0, (CdevInode i, int f, out KFile? file) => { file = new IoctlFile(i, f, this, "ndctl0"); return 0; });
        dev.AddCharNode("nmem0", 251, 0, (CdevInode i, int f, out KFile? file) => { file = new IoctlFile(i, f, this, "nmem0"); return 0; });
    }

    /// <summary>Run an ndctl command line in the fake's process.</summary>
    public KernelSim.Drivers.Pmem.NdctlResult Run(string line) => KernelSim.Drivers.Pmem.Ndctl.Run(P, line);

    private sealed class IoctlFile(Inode inode, int flags, FakeNdBus bus, string name) : KFile(inode, flags)
    {
        public override long Ioctl(uint cmd, ulong arg) => bus.Ioctl(name, cmd, arg);
    }

    private long Ioctl(string dev, uint cmd, ulong arg)
    {
        var p = M.Current!;
        var size = (int)Uapi.Ioctl.Size(cmd);
        var nr = Uapi.Ioctl.Nr(cmd);
        var head = new byte[size];
        p.Load(new UserPtr(arg), head);
        Ioctls.Add((dev, cmd, head));
        if (Uapi.Ioctl.Type(cmd) != 'N') return -Errno.ENOTTY;
        if (nr == 10)
        {
            var sizeIn = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(16));
            var sizeOut = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(20));
            var buf = new byte[64 + sizeIn + sizeOut];
            p.Load(new UserPtr(arg), buf);
            var rc = dev == "ndctl0" ? BusCall(buf) : DimmCall(buf);
            p.Store(new UserPtr(arg), buf);
            return rc;
        }
        if (dev != "ndctl0") return -Errno.ENOTTY;
        switch (nr)
        {
            case 1: // ND_CMD_ARS_CAP
                BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(16), 0x30000);
                BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(20), 8 + 16 * 16);
                BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(24), ClearErrUnit);
                break;
            case 4: // ND_CMD_CLEAR_ERROR
                BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(24), BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(8)));
                Badblocks = "";
                break;
            default:
                return -Errno.ENOTTY;
        }
        p.Store(new UserPtr(arg), head);
        return 0;
    }

    private int BusCall(byte[] b)
    {
        var fn = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8));
        var pl = b.AsSpan(64);
        switch (fn)
        {
            case 7:
            {
                var spa = BinaryPrimitives.ReadUInt64LittleEndian(pl);
                var len = BinaryPrimitives.ReadUInt64LittleEndian(pl[8..]);
                Injected.Add((spa, len));
                if ((pl[16] & 1) != 0)
                {
                    var sector = (spa - RegionStart) / 512;
                    Badblocks += $"{sector} 1\n";
                    ScrubActive = true;
                    M.WorkQueue.Schedule("fake ars", () => { ScrubActive = false; ScrubCount++; });
                }
                return 0;
            }
            case 8:
            {
                var spa = BinaryPrimitives.ReadUInt64LittleEndian(pl);
                Injected.RemoveAll(r => r.Spa == spa);
                return 0;
            }
            case 9:
                BinaryPrimitives.WriteUInt32LittleEndian(pl[4..], (uint)Injected.Count);
                for (var i = 0; i < Injected.Count; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(pl[(8 + i * 16)..], Injected[i].Spa);
                    BinaryPrimitives.WriteUInt64LittleEndian(pl[(16 + i * 16)..], Injected[i].Len);
                }
                return 0;
        }
        return -Errno.ENOTTY;
    }

    private int DimmCall(byte[] b)
    {
        var fn = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8));
        var pl = b.AsSpan(64);
        switch (fn)
        {
            case 1:
                BinaryPrimitives.WriteUInt32LittleEndian(pl[4..], 0x63f);
                pl[12] = Health;
                pl[13] = Spares;
                pl[14] = 0;
                pl[15] = Alarm;
                BinaryPrimitives.WriteUInt16LittleEndian(pl[16..], MediaTemp);
                BinaryPrimitives.WriteUInt16LittleEndian(pl[18..], CtrlTemp);
                BinaryPrimitives.WriteUInt32LittleEndian(pl[20..], ShutdownCount);
                pl[35] = ShutdownState;
                return 0;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(pl[4..], AlarmControl);
                pl[6] = ThrSpares;
                BinaryPrimitives.WriteUInt16LittleEndian(pl[7..], ThrMediaTemp);
                BinaryPrimitives.WriteUInt16LittleEndian(pl[9..], ThrCtrlTemp);
                return 0;
            case 17:
                AlarmControl = BinaryPrimitives.ReadUInt16LittleEndian(pl);
                ThrSpares = pl[2];
                ThrMediaTemp = BinaryPrimitives.ReadUInt16LittleEndian(pl[3..]);
                ThrCtrlTemp = BinaryPrimitives.ReadUInt16LittleEndian(pl[5..]);
                return 0;
            case 18:
                var flags = BinaryPrimitives.ReadUInt64LittleEndian(pl);
                if ((flags & 1) != 0) MediaTemp = pl[8] != 0 ? BinaryPrimitives.ReadUInt16LittleEndian(pl[9..]) : (ushort)(23 * 16);
                if ((flags & 2) != 0) Spares = pl[11] != 0 ? pl[12] : (byte)100;
                if ((flags & 4) != 0) Health = pl[13] != 0 ? (byte)4 : (byte)0;
                if ((flags & 8) != 0 && pl[14] != 0) { ShutdownState = 1; ShutdownCount++; }
                return 0;
        }
        return -Errno.ENOTTY;
    }
}
