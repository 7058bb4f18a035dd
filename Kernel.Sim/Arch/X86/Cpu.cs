using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Trace;

namespace KernelSim.Arch.X86;

/// <summary>
/// The CPU's view of memory for the copy routines: "probe, then move". A probe walks an address range
/// page by page the way the hardware would, resolving demand faults through the page-fault handler, and
/// reports how many leading bytes are accessible and the trap that stops the rest (#PF or, for loads,
/// #MC at the first poisoned line). Copy routines apply their own residue rules to those limits, move
/// the exact prefix with span copies, and dispatch the trap.
/// </summary>
public sealed partial class Cpu
{
    private readonly PhysicalMemory _phys;
    private readonly IMemoryMedia _media;
    /// <summary>The media is a replacement (not <see cref="_phys"/>): loads ask it which frame they read (<see cref="IMemoryMedia.LoadFrame"/>).</summary>
    private readonly bool _mediaReplaced;
    private readonly KernelMap _kmap;
    private readonly Scheduler _sched;
    private readonly ExceptionTable _extable;
    private readonly MachineCheck _mce;
    private readonly MachineState _state;
    private readonly Tracer _trace;

    /// <summary>Create the CPU over the machine's memory; loads fault where <paramref name="media"/> reports poison.</summary>
    public Cpu(PhysicalMemory phys, IMemoryMedia media, KernelMap kmap, Scheduler sched, ExceptionTable extable, MachineCheck mce, MachineState state, Tracer trace)
    {
        _phys = phys;
        _media = media;
        _mediaReplaced = !ReferenceEquals(media, phys);
        _kmap = kmap;
        _sched = sched;
        _extable = extable;
        _mce = mce;
        _state = state;
        _trace = trace;
    }

    /// <summary>pagefault_disable() nesting depth: user faults are not handled while it is non-zero.</summary>
    public int PagefaultDisabled { get; private set; }

    /// <summary>STAC/CLAC: EFLAGS.AC, which lets kernel code touch user pages under SMAP.</summary>
    internal bool UaccessAllowed { get; private set; }

    /// <summary>pagefault_disable().</summary>
    public void PagefaultDisable() => PagefaultDisabled++;

    /// <summary>pagefault_enable().</summary>
    public void PagefaultEnable() => PagefaultDisabled--;

    /// <summary>STAC: user_access_begin's half of <see cref="Uaccess"/>, for blocks that end in another call.</summary>
    internal void Stac() => UaccessAllowed = true;

    /// <summary>CLAC: user_access_end.</summary>
    internal void Clac() => UaccessAllowed = false;

    /// <summary>__uaccess_begin (STAC) … __uaccess_end (CLAC) as a scope.</summary>
    internal UaccessScope Uaccess() => new(this);

    internal readonly struct UaccessScope : IDisposable
    {
        private readonly Cpu _cpu;
        private readonly bool _prev;
        public UaccessScope(Cpu cpu)
        {
            _cpu = cpu;
            _prev = cpu.UaccessAllowed;
            cpu.UaccessAllowed = true;
        }
        public void Dispose() => _cpu.UaccessAllowed = _prev;
    }

    private MmStruct? CurrentMm => _sched.Current?.Mm;

    /// <summary>
    /// Translate one page for an access. For user space from kernel mode this is SMAP plus
    /// do_user_addr_fault; from user mode the fault is resolved or reported for a signal.
    /// </summary>
    private bool Resolve(Space space, ulong va, bool write, bool userMode, out ulong pfn, out VmFault fault, out bool smap)
    {
        smap = false;
        fault = VmFault.None;
        if (space == Space.Kernel)
        {
            if (!userMode && _kmap.TryAccess(va, write, out pfn, out fault)) return true;
            pfn = 0;
            if (userMode) fault = VmFault.VM_FAULT_BADMAP;
            return false;
        }
        var mm = CurrentMm;
        if (mm == null)
        {
            pfn = 0;
            fault = VmFault.VM_FAULT_BADMAP;
            return false;
        }
        if (!userMode && !UaccessAllowed)
        {
            // SMAP: supervisor access to a user page with EFLAGS.AC clear.
            pfn = 0;
            smap = true;
            return false;
        }
        if (mm.TryTranslate(va, write, out pfn)) return true;
        if (!userMode && PagefaultDisabled > 0)
        {
            // faulthandler_disabled(): no handle_mm_fault, straight to the fixup.
            fault = mm.FindVma(va) == null ? VmFault.VM_FAULT_BADMAP : VmFault.None;
            return false;
        }
        fault = mm.HandleMmFault(va, write);
        if ((fault & VmFault.VM_FAULT_ERROR) != 0) return false;
        return mm.TryTranslate(va, write, out pfn);
    }

    /// <summary>
    /// How many leading bytes of [va, va+len) the access can reach before a trap, and that trap.
    /// Loads stop with #MC at the first poisoned cache line; a load that starts inside one stops at once.
    /// </summary>
    internal ulong Probe(Space space, ulong va, ulong len, bool write, bool userMode, out Trap trap)
    {
        var done = ProbeFast(space, va, len, write, userMode);
        if (done == len)
        {
            trap = default;
            return len;
        }
        return ProbeSlow(space, va, len, write, userMode, done, out trap);
    }

    /// <summary>
    /// The leading bytes of [va, va+len) that need nothing but a present, permitted translation and hold no poison:
    /// no fault handling, no host-side window, no sub-page permissions. It stops at the start of the first page that
    /// needs more, which <see cref="ProbeSlow"/> then takes from there (a repeated translation changes nothing).
    /// </summary>
    internal ulong ProbeFast(Space space, ulong va, ulong len, bool write, bool userMode)
    {
        if (_phys.WindowHandlerCount != 0 || (!write && _mediaReplaced)) return 0; // a replaced media answers poison itself
        MmStruct? mm = null;
        if (space == Space.User)
        {
            mm = CurrentMm;
            if (mm == null || (!userMode && !UaccessAllowed) || mm.HasSubpageProtection) return 0;
        }
        else if (userMode)
        {
            return 0;
        }
        var poison = !write && _phys.PoisonedFrameCount != 0;
        ulong done = 0;
        while (done < len)
        {
            var a = va + done;
            if (a < va) return done;
            ulong pfn;
            if (mm != null ? !mm.TryTranslate(a, write, out pfn) : !_kmap.TryAccess(a, write, out pfn, out _)) return done;
            var off = (int)PageDefs.OffsetInPage(a);
            var n = (int)Math.Min(len - done, PageDefs.PAGE_SIZE - (ulong)off);
            if (poison && _phys.FirstPoisonInFrame(pfn, off, n) >= 0) return done;
            done += (ulong)n;
        }
        return len;
    }

    private ulong ProbeSlow(Space space, ulong va, ulong len, bool write, bool userMode, ulong done, out Trap trap)
    {
        while (done < len)
        {
            var a = unchecked(va + done);
            if (a < va)
            {
                // wrapped past the top of the address space: non-canonical → #GP, reported as a fault.
                trap = new Trap(TrapKind.PageFault, space, a, write, VmFault.VM_FAULT_BADMAP, default, false);
                return done;
            }
            var off = (int)PageDefs.OffsetInPage(a);
            var n = (int)Math.Min(len - done, PageDefs.PAGE_SIZE - (ulong)off);
            if (!Resolve(space, a, write, userMode, out var pfn, out var fault, out var smap))
            {
                trap = new Trap(TrapKind.PageFault, space, a, write, fault, default, smap);
                return done;
            }
            if (_phys.WindowHandlerCount != 0 && !SecondStage(space, a, write, userMode, ref pfn, out var hostTrap))
            {
                trap = hostTrap;
                return done;
            }
            var denied = space == Space.User && CurrentMm is { HasSubpageProtection: true } smm ? smm.FirstDeniedByte(a, n) : -1;
            if (denied >= 0) n = denied; // sub-page permission fault (MmStruct.SetSubpageProtection)
            if (!write && n > 0)
            {
                var p = _media.FirstPoisonInFrame(pfn, off, n);
                if (p >= 0)
                {
                    var line = ((pfn << PageDefs.PAGE_SHIFT) + (ulong)off + (ulong)p) & ~(PageDefs.CACHELINE - 1);
                    trap = new Trap(TrapKind.MachineCheck, space, a + (ulong)p, false, VmFault.None, new PhysAddr(line), false);
                    return done + (ulong)p;
                }
            }
            if (denied >= 0)
            {
                trap = new Trap(TrapKind.PageFault, space, a + (ulong)n, write, VmFault.VM_FAULT_BADACCESS, default, false);
                return done + (ulong)n;
            }
            done += (ulong)n;
        }
        trap = Trap.None;
        return len;
    }

    internal bool TranslateNoFault(Space space, ulong va, bool write, out ulong pfn)
    {
        bool ok;
        if (space == Space.Kernel) ok = _kmap.TryAccess(va, write, out pfn, out _);
        else
        {
            var mm = CurrentMm;
            pfn = 0;
            ok = mm != null && mm.TryTranslate(va, write, out pfn);
        }
        if (ok && _phys.WindowHandlerCount != 0)
        {
            var r = _phys.FindRange(PhysAddr.FromPfn(pfn));
            if (r?.WindowHandler is { } h)
            {
                var acc = h.Access(pfn - r.Start.Pfn, write, userMode: false);
                if (acc.Action != HostFaultAction.None) return false;
                pfn = acc.BackingPfn;
            }
        }
        return ok;
    }

    /// <summary>
    /// The second-stage (EPT/NPT) translation of a guest frame that lies in a device window with a host-side
    /// handler (virtio-fs DAX): the host frame, or the trap the failed host access becomes. Ranges without a
    /// handler (DRAM, pmem) pass through unchanged.
    /// </summary>
    private bool SecondStage(Space space, ulong va, bool write, bool userMode, ref ulong pfn, out Trap trap)
    {
        trap = Trap.None;
        var r = _phys.FindRange(PhysAddr.FromPfn(pfn));
        if (r?.WindowHandler is not { } h) return true;
        var acc = h.Access(pfn - r.Start.Pfn, write, userMode);
        if (acc.Action == HostFaultAction.None)
        {
            pfn = acc.BackingPfn;
            return true;
        }
        var gpa = new PhysAddr((pfn << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va));
        if (_trace.Enabled) _trace.Event("ept", $"host fault on gpa 0x{gpa.Value:x} ({(write ? "write" : "read")}, {(userMode ? "user" : "kernel")} mode): {acc.Reason} → {acc.Action}");
        switch (acc.Action)
        {
            case HostFaultAction.MachineCheck when !write:
                trap = new Trap(TrapKind.MachineCheck, space, va, false, VmFault.None, new PhysAddr(gpa.Value & ~(PageDefs.CACHELINE - 1)), false);
                return false;
            case HostFaultAction.GuestSigbus when userMode:
                trap = new Trap(TrapKind.PageFault, space, va, write, VmFault.VM_FAULT_SIGBUS, gpa, false);
                return false;
            default:
                var action = acc.Action is HostFaultAction.Livelock ? HostFaultAction.Livelock : HostFaultAction.VmStop;
                trap = new Trap(TrapKind.HostFault, space, va, write, VmFault.None, gpa, false) { HostAction = action, HostReason = acc.Reason };
                return false;
        }
    }

    /// <summary>
    /// A host-side fault the guest cannot see: the vCPU retries the access forever (KVM async page fault, the
    /// retry bounded by <see cref="RetryGuard"/> and reported as a livelock of the current task), or KVM_RUN fails
    /// and the VMM stops the VM. Never returns.
    /// </summary>
    internal Exception HostFault(in Trap t)
    {
        if (t.HostAction == HostFaultAction.Livelock)
        {
            var guard = new RetryGuard("kvm_async_pf: vCPU retries the access");
            while (true)
            {
                // halt (or PV "page not present"), async_pf_execute: GUP fails and the failure is ignored,
                // "page ready", the instruction restarts and faults again on the same gpa.
                guard.Pass(progressed: false);
            }
        }
        _state.StopVm("error: kvm run failed Bad address");
        _state.Printk($"KVM: guest access to gpa 0x{t.Phys.Value:x} ({t.HostReason}): vm_stop(RUN_STATE_INTERNAL_ERROR)");
        throw new VmStoppedException("kvm run failed Bad address");
    }

    /// <summary>
    /// Move n bytes that a probe showed to be accessible and clean. Pages whose virtual neighbours are also
    /// physical neighbours (in one <see cref="PhysicalMemory"/> storage group) move with one <see cref="PhysicalMemory.CopyRun"/>.
    /// </summary>
    internal void Move(Space ds, ulong dst, Space ss, ulong src, ulong n)
    {
        ulong done = 0;
        while (done < n)
        {
            var s = src + done;
            var d = dst + done;
            var so = (int)PageDefs.OffsetInPage(s);
            var dof = (int)PageDefs.OffsetInPage(d);
            if (!TranslateNoFault(ss, s, false, out var spfn) || !TranslateNoFault(ds, d, true, out var dpfn))
                throw new InvalidOperationException($"simulator bug: move over an unprobed page (src 0x{s:x}, dst 0x{d:x})");
            var want = n - done;
            var sRun = ContiguousRun(ss, s, spfn, so, want, write: false);
            if (_mediaReplaced)
            {
                sRun = Math.Min(sRun, PageDefs.PAGE_SIZE - (ulong)so);
                spfn = _media.LoadFrame(spfn);
            }
            var dRun = ContiguousRun(ds, d, dpfn, dof, Math.Min(want, sRun), write: true);
            var chunk = (int)Math.Min(want, Math.Min(sRun, dRun));
            _phys.CopyRun(spfn, so, dpfn, dof, chunk);
            done += (ulong)chunk;
        }
    }

    /// <summary>
    /// Bytes from va (in frame pfn at offset off) that are physically contiguous and in one storage group,
    /// looking at most <paramref name="want"/> bytes ahead. Every page it translates lies inside the range being
    /// moved, so it marks nothing dirty that the page-by-page move would not.
    /// </summary>
    private ulong ContiguousRun(Space space, ulong va, ulong pfn, int off, ulong want, bool write)
    {
        var run = PageDefs.PAGE_SIZE - (ulong)off;
        if (_phys.WindowHandlerCount != 0) return run; // host-side window handlers see every page access once, in order
        var limit = Math.Min(want, (ulong)PhysicalMemory.CopyRunLimit(pfn, off));
        for (var next = pfn + 1; run < limit; next++)
        {
            if (!TranslateNoFault(space, va + run, write, out var p) || p != next) break;
            run += PageDefs.PAGE_SIZE;
        }
        return run;
    }

    /// <summary>Store n copies of a byte over a probed range (memset / clear_user).</summary>
    internal void Fill(Space ds, ulong dst, byte value, ulong n)
    {
        ulong done = 0;
        while (done < n)
        {
            var d = dst + done;
            var dof = (int)PageDefs.OffsetInPage(d);
            var chunk = (int)Math.Min(n - done, PageDefs.PAGE_SIZE - (ulong)dof);
            if (!TranslateNoFault(ds, d, true, out var dpfn))
                throw new InvalidOperationException($"simulator bug: fill over an unprobed page (0x{d:x})");
            _phys.WriteSpan(dpfn, dof, chunk).Fill(value);
            done += (ulong)chunk;
        }
    }

    /// <summary>Read probed bytes into a host buffer (the CPU registers of a user-mode load).</summary>
    internal void ReadOut(Space ss, ulong src, Span<byte> into)
    {
        var done = 0;
        while (done < into.Length)
        {
            var s = src + (ulong)done;
            var so = (int)PageDefs.OffsetInPage(s);
            var chunk = Math.Min(into.Length - done, (int)PageDefs.PAGE_SIZE - so);
            if (!TranslateNoFault(ss, s, false, out var spfn))
                throw new InvalidOperationException($"simulator bug: read over an unprobed page (0x{s:x})");
            if (_mediaReplaced) spfn = _media.LoadFrame(spfn);
            _phys.ReadSpan(spfn, so, chunk).CopyTo(into.Slice(done, chunk));
            done += chunk;
        }
    }

    /// <summary>Write host bytes over a probed range (a user-mode store).</summary>
    internal void WriteIn(Space ds, ulong dst, ReadOnlySpan<byte> data)
    {
        var done = 0;
        while (done < data.Length)
        {
            var d = dst + (ulong)done;
            var dof = (int)PageDefs.OffsetInPage(d);
            var chunk = Math.Min(data.Length - done, (int)PageDefs.PAGE_SIZE - dof);
            if (!TranslateNoFault(ds, d, true, out var dpfn))
                throw new InvalidOperationException($"simulator bug: write over an unprobed page (0x{d:x})");
            data.Slice(done, chunk).CopyTo(_phys.WriteSpan(dpfn, dof, chunk));
            done += chunk;
        }
    }

    /// <summary>
    /// A trap taken in kernel mode at an instruction of <paramref name="site"/>: #PF goes to
    /// fixup_exception (no entry → oops); #MC goes to do_machine_check. Returns only if recovered.
    /// </summary>
    internal void KernelTrap(in Trap t, ExSite site)
    {
        if (t.Kind == TrapKind.HostFault) throw HostFault(t);
        if (t.Kind == TrapKind.MachineCheck)
        {
            _mce.DoMachineCheck(new MceEvent(t.Phys, UserMode: false, site, SourceIsUser: t.Space == Space.User, UserVaddr: t.Space == Space.User ? t.Va : 0));
            return;
        }
        if (_trace.Enabled)
            _trace.Event("#PF", $"{(t.Space == Space.User ? "user" : "kernel")} address 0x{t.Va:x} {(t.Write ? "write" : "read")}{(t.Smap ? " (SMAP)" : "")} at {site}");
        if (_extable.FixupException(site, TrapNr.X86_TRAP_PF))
        {
            if (_trace.Enabled) _trace.Event("fixup", $"{site} → {_extable.TypeAt(site)}");
            return;
        }
        throw t.Smap
            ? _state.Oops($"SMAP violation: kernel access to user address 0x{t.Va:x} at {site}")
            : _state.Oops($"unable to handle page fault for address: 0x{t.Va:x} at {site}");
    }
}
