using KernelSim.Block;
using KernelSim.Fs;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct dev_dax over a static dax_region (drivers/dax/bus.c, device.c, pmem.c): one physical range of persistent
/// memory served as the character device /dev/daxR.N with a fixed alignment (4 KiB, 2 MiB or 1 GiB). Attaching it is
/// what dax_pmem's probe does after the info block (alloc_dax_region + devm_create_dev_dax); the device_dax driver binds
/// at once (match_always) and unbinds through /sys/bus/dax/drivers/device_dax/unbind. Its pages are ZONE_DEVICE pages
/// of a MEMORY_DEVICE_GENERIC pagemap, so poison consumed through a mapping reaches memory_failure_dev_pagemap here.
/// </summary>
public sealed partial class DevDax : IDevPagemap
{
    private readonly Machine _m;
    private readonly DaxBus _bus;
    private readonly Func<KernfsDir?> _parentOf;
    private KernfsDir? _parent;
    private KernfsDir? _devDir;
    private PhysRange? _range;
    private IDevPagemap? _savedPagemap;
    private bool _savedDirectMapped;

    private DevDax(Machine machine, DaxBus bus, Func<KernfsDir?> parent, int regionId, int id, ulong start, ulong size, ulong align, int targetNode)
    {
        _m = machine;
        _bus = bus;
        _parentOf = parent;
        RegionId = regionId;
        Id = id;
        Start = start;
        Size = size;
        Align = align;
        TargetNode = targetNode;
        VmOps = new DevDaxVmOperations(this);
    }

    /// <summary>The machine.</summary>
    public Machine Machine => _m;

    /// <summary>"dax&lt;region&gt;.&lt;id&gt;".</summary>
    public string Name => $"dax{RegionId}.{Id}";

    /// <summary>dax_region-&gt;id (the region number of the namespace).</summary>
    public int RegionId { get; }

    /// <summary>dev_dax-&gt;id (the namespace index).</summary>
    public int Id { get; }

    /// <summary>ranges[0].range.start: the first physical byte (after the info block and memmap reserve).</summary>
    public ulong Start { get; }

    /// <summary>dev_dax_size.</summary>
    public ulong Size { get; }

    /// <summary>dev_dax-&gt;align: 4096, 2 MiB or 1 GiB (fixed for a static region).</summary>
    public ulong Align { get; }

    /// <summary>dax_region-&gt;target_node (the target_node attribute is hidden when negative).</summary>
    public int TargetNode { get; }

    /// <summary>MINOR of the character device.</summary>
    public uint Minor { get; private set; }

    /// <summary>The device_dax driver is bound (probe succeeded, not unbound since).</summary>
    public bool Bound { get; private set; }

    /// <summary>dax_alive(dev_dax-&gt;dax_dev): run_dax at probe, kill_dax at removal.</summary>
    public bool Alive { get; private set; }

    /// <summary>False once <see cref="Detach"/> ran.</summary>
    public bool Attached { get; private set; }

    /// <summary>The vm_operations of its mappings (dax_vm_ops).</summary>
    public IVmOperations VmOps { get; }

    /// <summary>Faults served with a PTE (4 KiB), PMD (2 MiB) and PUD (1 GiB) mapping.</summary>
    public int PteFaults { get; internal set; }

    /// <inheritdoc cref="PteFaults"/>
    public int PmdFaults { get; internal set; }

    /// <inheritdoc cref="PteFaults"/>
    public int PudFaults { get; internal set; }

    /// <summary>dax_align_valid: PAGE_SIZE, PMD_SIZE, and PUD_SIZE (x86-64 has transparent PUD pages).</summary>
    public static bool AlignValid(ulong align) => align is PageDefs.PAGE_SIZE or PageDefs.PMD_SIZE or 1UL << PageDefs.PUD_SHIFT;

    /// <summary>
    /// dax_pmem_probe's tail for a namespace "namespace&lt;regionId&gt;.&lt;id&gt;" whose data starts at <paramref name="start"/>:
    /// alloc_dax_region (−EINVAL for an alignment dax_align_valid refuses; a start or size not a multiple of it makes
    /// alloc_dax_region fail, −ENOMEM), devm_create_dev_dax (the "dax_region" group in <paramref name="parent"/>, the device
    /// directory "daxR.N" below it with its attributes and mapping0, /sys/bus/dax/devices/daxR.N, /dev/daxR.N; −EEXIST for
    /// a name in use), then the device_dax probe. A failed probe leaves the device registered and unbound (the result is
    /// still 0, as device_add succeeded). −ENODEV when the machine has no dax bus.
    /// </summary>
    public static int Attach(Machine machine, int regionId, int id, ulong start, ulong size, ulong align, KernfsDir parent,
        out DevDax? dev, int targetNode = 0)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(parent);
        dev = null;
        var bus = machine.Services.GetService<DaxBus>();
        if (bus == null) return -Errno.ENODEV;
        _ = bus.Sysfs; // mounted on first use: /sys/bus/dax exists before the device is added
        if (parent.Child($"dax{regionId}.{id}") != null) return -Errno.EEXIST;
        return Attach(machine, bus, regionId, id, start, size, align, () => parent, targetNode, out dev);
    }

    /// <summary>
    /// The same for dax_pmem's probe (<see cref="NvdimmBus"/>): the parent is the nd dax device's sysfs directory, which
    /// exists only once /sys is mounted — a device created at boot gets its sysfs nodes then (<see cref="DaxBus.Populate"/>).
    /// </summary>
    internal static int Attach(Machine machine, DaxBus bus, int regionId, int id, ulong start, ulong size, ulong align,
        Func<KernfsDir?> parent, int targetNode, out DevDax? dev)
    {
        dev = null;
        if (!AlignValid(align)) return -Errno.EINVAL;
        if (size == 0 || (start & (align - 1)) != 0 || (size & (align - 1)) != 0) return -Errno.ENOMEM;
        var d = new DevDax(machine, bus, parent, regionId, id, start, size, align, targetNode);
        if (bus.Find(d.Name) != null) return -Errno.EEXIST;
        d.Minor = bus.AllocMinor();
        var rc = bus.DevTmpFs.AddCharNode(d.Name, DaxBus.DaxMajor, d.Minor, d.Open, 0x180);
        if (rc < 0) return rc;
        bus.Add(d);
        d.Attached = true;
        d.CreateSysfs();
        d.Probe();
        dev = d;
        return 0;
    }

    /// <summary>
    /// unregister_dev_dax (devm release of dax_pmem): unbind the driver if bound (kill_dev_dax: mappings zapped), remove
    /// the device's sysfs directory, links and /dev node. 0, or −ENXIO when already detached.
    /// </summary>
    public int Detach()
    {
        if (!Attached) return -Errno.ENXIO;
        if (Bound) Remove();
        Alive = false;
        if (_devDir != null)
        {
            _bus.DevicesDir.Remove(Name);
            _parent!.Remove(Name);
            _parent.Remove("dax_region");
            _devDir = null;
        }
        _bus.DevTmpFs.RemoveNode(Name);
        _bus.Remove(this);
        Attached = false;
        return 0;
    }

    /// <summary>
    /// dev_dax_probe (via dax_bus_probe): −EBUSY when another bound device holds part of the range
    /// (devm_request_mem_region); devm_memremap_pages — the pages join the direct map as ZONE_DEVICE pages whose
    /// dev_pagemap is this device; cdev_add; run_dax. The driver links appear.
    /// </summary>
    internal int Probe()
    {
        using var _ = _m.Tracer.Fn("dev_dax_probe", "dax");
        foreach (var o in _bus.Devices)
        {
            if (o != this && o.Bound && o.Start < Start + Size && Start < o.Start + o.Size)
            {
                _m.State.Printk($"dax_pmem {Name}: mapping0: 0x{Start:x}-0x{Start + Size - 1:x} could not reserve range");
                return -Errno.EBUSY;
            }
        }
        _range = _m.Phys.FindRange(new PhysAddr(Start));
        if (_range == null || _range.End.Value < Start + Size)
        {
            if (_range != null) return -Errno.EBUSY;
            _range = _m.Phys.Register(new PhysAddr(Start), Size, MemoryKind.Pmem, Name);
        }
        _savedPagemap = _range.Pagemap;
        _savedDirectMapped = _range.DirectMapped;
        _range.Pagemap = this;
        _range.DirectMapped = true;
        Bound = true;
        Alive = true;
        DriverLinks();
        return 0;
    }

    /// <summary>
    /// The driver's removal (unbind, or device_del): kill_dev_dax — kill_dax, then unmap_mapping_range of the whole device
    /// (every process's mapping is zapped; a later touch faults with SIGBUS since the device is dead) — cdev_del (opens
    /// then fail with −ENXIO) and the pages leave the pagemap (their page-&gt;mapping with them).
    /// </summary>
    internal void Remove()
    {
        using var _ = _m.Tracer.Fn("dev_dax_kill", "dax");
        Alive = false;
        foreach (var (mm, vma) in Mappings()) mm.ZapRange(vma.Start, vma.End);
        if (_range != null)
        {
            _range.Pagemap = _savedPagemap;
            _range.DirectMapped = _savedDirectMapped;
        }
        _blockIndex.Clear();
        Bound = false;
        if (_devDir == null) return;
        _devDir.Remove("driver");
        _bus.DriverDir.Remove(Name);
    }

    /// <summary>The (mm, vma) pairs mapping this device in live processes: the device inode's i_mmap.</summary>
    internal IEnumerable<(MmStruct Mm, Vma Vma)> Mappings()
    {
        foreach (var p in _m.Scheduler.Processes)
        {
            if (!p.Alive) continue;
            foreach (var v in p.Mm.Vmas.ToArray())
                if (v.File is DevDaxFile f && ReferenceEquals(f.Dev, this)) yield return (p.Mm, v);
        }
    }

    /// <summary>chrdev_open → dax_open: −ENXIO once the driver is unbound (no cdev); else the file.</summary>
    private int Open(CdevInode inode, int flags, out KFile? file)
    {
        file = null;
        if (!Bound) return -Errno.ENXIO;
        file = new DevDaxFile(inode, flags, this);
        return 0;
    }

    /// <summary>
    /// check_vma: −ENXIO when the dax device is dead; −EINVAL for a mapping without VM_MAYSHARE ("fail, attempted
    /// private mapping") or with vm_start / vm_end not multiples of the alignment ("fail, unaligned vma").
    /// </summary>
    internal int CheckVma(bool shared, ulong start, ulong end, string func)
    {
        if (!Alive) return -Errno.ENXIO;
        var comm = _m.Current?.Comm ?? "kernel";
        if (!shared)
        {
            _m.State.Printk($"device_dax {Name}: {comm}: {func}: fail, attempted private mapping");
            return -Errno.EINVAL;
        }
        var mask = Align - 1;
        if ((start & mask) != 0 || (end & mask) != 0)
        {
            _m.State.Printk($"device_dax {Name}: {comm}: {func}: fail, unaligned vma (0x{start:x} - 0x{end:x}, 0x{mask:x})");
            return -Errno.EINVAL;
        }
        return 0;
    }

    /// <summary>
    /// dax_pgoff_to_phys: the physical address of file page <paramref name="pgoff"/> when [phys, phys + size) lies inside
    /// the range, else null.
    /// </summary>
    internal ulong? PgoffToPhys(ulong pgoff, ulong size)
    {
        var pages = Size >> PageDefs.PAGE_SHIFT;
        if (pgoff >= pages) return null;
        var phys = Start + (pgoff << PageDefs.PAGE_SHIFT);
        return phys + size - 1 <= Start + Size - 1 ? phys : null;
    }

    private void DriverLinks()
    {
        if (_devDir == null) return;
        _devDir.Add(new KernfsLink("driver", _bus.DriverDir));
        _bus.DriverDir.Add(new KernfsLink(Name, _devDir));
    }

    /// <summary>device_add's sysfs part: nothing until /sys is mounted and the parent directory exists.</summary>
    internal void CreateSysfs()
    {
        if (_devDir != null || !_bus.SysfsReady || _parentOf() is not { } parent) return;
        _parent = parent;
        // The dax_region group of the parent (the nd_dax device); a static region hides available_size/create/seed/delete.
        var region = _parent.Add(new KernfsDir("dax_region"));
        region.Attr("id", 0x124, () => $"{RegionId}\n");
        region.Attr("size", 0x124, () => $"{Size}\n");
        region.Attr("align", 0x100, () => $"{Align}\n");
        var d = _devDir = _parent.Add(new KernfsDir(Name));
        d.Attr("modalias", 0x124, () => "dax:t0\n");
        d.Attr("size", 0x124, () => $"{Size}\n");
        if (TargetNode >= 0) d.Attr("target_node", 0x124, () => $"{TargetNode}\n");
        d.Attr("align", 0x124, () => $"{Align}\n");
        d.Attr("resource", 0x100, () => $"0x{Start:x}\n");
        d.Attr("numa_node", 0x124, () => $"{TargetNode}\n");
        d.Attr("dev", 0x124, () => $"{DaxBus.DaxMajor}:{Minor}\n");
        var m0 = d.Add(new KernfsDir("mapping0"));
        m0.Attr("start", 0x100, () => $"0x{Start:x}\n");
        m0.Attr("end", 0x100, () => $"0x{Start + Size - 1:x}\n");
        m0.Attr("page_offset", 0x100, () => "0\n"); // "%#lx" of 0 prints "0"
        d.Add(new KernfsLink("subsystem", _bus.DevicesDir.Parent!));
        _bus.DevicesDir.Add(new KernfsLink(Name, d));
        if (Bound) DriverLinks();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [0x{Start:x}, +0x{Size:x}) align={Align}{(Bound ? "" : " (unbound)")}";
}
