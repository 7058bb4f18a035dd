using KernelSim.Scenarios.Model;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Runtime;

/// <summary>The state of one running scenario: its machine, actors, kernel buffers and shared objects.</summary>
public sealed class ScenarioRun
{
    /// <summary>Where the iovec scratch page is mapped when that address is free.</summary>
    internal const ulong ScratchHint = MmStruct.MmapMinAddr;

    internal ScenarioRun(Scenario scenario, Machine machine)
    {
        Scenario = scenario;
        Machine = machine;
    }

    public Scenario Scenario { get; }
    public Machine Machine { get; }
    internal Dictionary<string, ActorState> Actors { get; } = new(StringComparer.Ordinal);
    internal Dictionary<string, KernelBuffer> KernelBuffers { get; } = new(StringComparer.Ordinal);
    internal Dictionary<string, ShmemObject> SharedObjects { get; } = new(StringComparer.Ordinal);
    internal List<RamFs> RamFsMounts { get; } = [];

    /// <summary>daxfs mounts by mount point.</summary>
    internal Dictionary<string, KernelSim.Fs.Dax.DaxFs> DaxMounts { get; } = new(StringComparer.Ordinal);

    /// <summary>virtio-fs shares by name.</summary>
    internal Dictionary<string, KernelSim.Drivers.Virtiofs.VirtioFsShare> Shares { get; } = new(StringComparer.Ordinal);

    internal ActorState Actor(string name) => Actors[name];

    /// <summary>Page frame numbers recorded by pagemap steps ("as: p0"), by name.</summary>
    internal Dictionary<string, ulong> Pfns { get; } = new(StringComparer.Ordinal);

    /// <summary>Per share: FUSE log and host event counts before the current step.</summary>
    internal Dictionary<string, (int Log, int Host)> LayerBefore { get; } = new(StringComparer.Ordinal);

    /// <summary>Remember where the shares' logs stand before a step.</summary>
    internal void SnapshotLayers()
    {
        foreach (var (name, s) in Shares) LayerBefore[name] = (s.Log.Count, s.Host.Events.Count);
        BadblocksBefore.Clear();
        foreach (var (disk, show) in Badblocks()) BadblocksBefore[disk] = show;
    }

    /// <summary>Per pmem disk: its badblocks listing before the current step.</summary>
    private Dictionary<string, string> BadblocksBefore { get; } = new(StringComparer.Ordinal);

    private IEnumerable<(string Disk, string Show)> Badblocks()
    {
        if (Scenario.Machine.Pmem is not { } p) yield break;
        for (var i = 0; i < p.Namespaces.Count; i++)
            if (KernelSim.Drivers.Pmem.Nvdimm.Find(Machine, $"pmem{i}") is { } dev) yield return ($"pmem{i}", dev.Disk.BadblocksShow());
    }

    private static string ShowList(string show)
    {
        var l = Steps.PmemSteps.Lines(show);
        return l.Count == 0 ? "empty" : string.Join(", ", l.Select(x => $"\"{x}\""));
    }

    /// <summary>The FUSE messages of a share during the current step.</summary>
    internal IEnumerable<KernelSim.Drivers.Virtiofs.Transport.FuseMessage> NewFuse(string share) =>
        Shares[share].Log.Skip(LayerBefore.GetValueOrDefault(share).Log);

    /// <summary>What the storage layers did during the step: FUSE requests and host events.</summary>
    internal List<string> LayerChanges()
    {
        var l = new List<string>();
        foreach (var (disk, show) in Badblocks())
        {
            var before = BadblocksBefore.GetValueOrDefault(disk, "");
            if (before != show) l.Add($"badblocks {disk}: {ShowList(before)} → {ShowList(show)}");
        }
        foreach (var (name, s) in Shares)
        {
            var (log, host) = LayerBefore.GetValueOrDefault(name);
            var prefix = Shares.Count > 1 ? name + " " : "";
            foreach (var e in s.Host.Events.Skip(host)) l.Add($"host: {prefix}{e}");
            foreach (var msg in s.Log.Skip(log)) l.Add($"fuse: {prefix}{msg}");
        }
        return l;
    }

    /// <summary>Resolve an address expression in the context of <paramref name="actor"/>; null with a reason if it has no address (yet).</summary>
    internal Location? Resolve(AddrExpr e, string? actor, out string? error)
    {
        error = null;
        var who = e.Actor ?? actor;
        ActorState? a = who != null ? Actors.GetValueOrDefault(who) : null;
        if (e.Name == null)
        {
            if (a == null)
            {
                error = $"{e}: no actor";
                return null;
            }
            return new Location(false, unchecked((ulong)e.Offset), a, null, null, e.Offset);
        }
        if (a != null && a.Mappings.TryGetValue(e.Name, out var ub))
            return new Location(false, unchecked(ub.Start.Value + (ulong)e.Offset), a, ub, null, e.Offset);
        if (e.Actor == null && KernelBuffers.TryGetValue(e.Name, out var kb))
            return new Location(true, unchecked(kb.Start.Value + (ulong)e.Offset), null, null, kb, e.Offset);
        error = $"{e}: '{e.Name}' has no address (its mmap or kmalloc step did not succeed)";
        return null;
    }

    /// <summary>Describe a user address relative to the actor's mappings ("buf+0x1000"), or hex.</summary>
    internal string Symbolize(ActorState a, ulong addr)
    {
        foreach (var m in a.Mappings.Values)
            if (addr >= m.Start.Value && addr - m.Start.Value < m.Size) return AddrExpr.Format(m.Name, (long)(addr - m.Start.Value));
        return $"0x{addr:x}";
    }

    /// <summary>What happened when a system call gave <see cref="Machine.NoReturn"/>: panic, shutdown, livelock, oops.</summary>
    internal string OutcomeOf(Process? p)
    {
        var s = Machine.State;
        if (!s.Alive)
        {
            var kind = s.Status switch { MachineStatus.Panicked => "panic", MachineStatus.Shutdown => "shutdown", _ => "stopped" };
            return $"{kind}: {s.PanicMessage}";
        }
        if (p != null)
        {
            return p.State switch
            {
                ProcessState.Livelocked => $"livelock: {p.StuckReason}",
                ProcessState.Oopsed => $"oops: {p.StuckReason}",
                ProcessState.Killed => $"killed: {p.KilledBy}",
                _ => "did not return",
            };
        }
        return "did not return";
    }

    /// <summary>A system call's return turned into a step result.</summary>
    internal Steps.StepResult Syscall(Process p, long ret) => ret == Machine.NoReturn ? Steps.StepResult.NoReturn(OutcomeOf(p)) : Steps.StepResult.Returned(ret);

    /// <summary>A user buffer for iovec arrays: the step's vec: location, or the actor's scratch page (mapped on first use).</summary>
    internal UserPtr? ScratchPage(ActorState a, out string? error)
    {
        error = null;
        if (a.Scratch is { } s) return s;
        // A hint at the bottom of the address space keeps it out of the top-down mmap area, so it never
        // lands in a hole a scenario has just made.
        var r = a.Process.Mmap(ScratchHint, PageDefs.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        if (r < 0)
        {
            error = $"mmap of the iovec scratch page failed: {Errno.Describe(r)}";
            return null;
        }
        a.Scratch = new UserPtr((ulong)r);
        a.Mappings["iovecs"] = new UserBuffer("iovecs", a.Scratch.Value, PageDefs.PAGE_SIZE, FillPattern.None);
        return a.Scratch;
    }
}
