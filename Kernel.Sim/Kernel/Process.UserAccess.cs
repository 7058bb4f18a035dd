using System.Buffers;
using KernelSim.Arch.X86;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// The process loads bytes from its own memory in user mode (CPL 3). Faults become signals as
    /// arch/x86/mm/fault.c sends them; a poisoned line raises #MC in user mode (kill_me_maybe on return to
    /// user). A caught signal ends the access as if the handler siglongjmp'd out; with no signal the faulting
    /// instruction restarts.
    /// </summary>
    public UserAccessResult Load(UserPtr addr, Span<byte> into) => Access(addr, into, default, write: false);

    /// <summary>The process stores bytes into its own memory in user mode (see <see cref="Load"/>).</summary>
    public UserAccessResult Store(UserPtr addr, ReadOnlySpan<byte> data) => Access(addr, default, data, write: true);

    /// <summary>Load one byte; the byte, or the access result when it faulted.</summary>
    public UserAccessResult LoadByte(UserPtr addr, out byte value)
    {
        Span<byte> b = stackalloc byte[1];
        var r = Load(addr, b);
        value = b[0];
        return r;
    }

    /// <summary>Fill [addr, addr+len) with a byte pattern from user mode (test setup).</summary>
    public UserAccessResult Fill(UserPtr addr, ulong len, Func<ulong, byte> pattern)
    {
        var data = ArrayPool<byte>.Shared.Rent(checked((int)len));
        for (var i = 0; i < (int)len; i++) data[i] = pattern((ulong)i);
        var r = Store(addr, data.AsSpan(0, (int)len));
        ArrayPool<byte>.Shared.Return(data);
        return r;
    }

    /// <summary>Read user memory without any CPU semantics (a debugger's view: no faults, no poison consumption); unmapped bytes read as null.</summary>
    public byte?[] Peek(UserPtr addr, int len)
    {
        var result = new byte?[len];
        Span<byte> b = stackalloc byte[1];
        for (var i = 0; i < len; i++)
        {
            var va = addr.Value + (ulong)i;
            var pfn = Mm.PfnAt(va);
            if (pfn == null) continue;
            Machine.Phys.PeekBytes(new PhysAddr((pfn.Value << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va)), b);
            result[i] = b[0];
        }
        return result;
    }

    private const int MaxRestarts = 4;

    /// <summary>The arguments of one user access, passed to <see cref="Machine.Run{TState, T}"/> without a closure or a copy.</summary>
    private ref struct UserAccess
    {
        public Process P;
        public UserPtr Addr;
        public Span<byte> Into;
        public ReadOnlySpan<byte> Data;
        public bool Write;
        public ref ulong Done;
        public ref SigInfo? Sig;
    }

    private UserAccessResult Access(UserPtr addr, Span<byte> into, ReadOnlySpan<byte> data, bool write)
    {
        ulong done = 0;
        SigInfo? sig = null;
        var a = new UserAccess { P = this, Addr = addr, Into = into, Data = data, Write = write, Done = ref done, Sig = ref sig };
        var r = Machine.Run(this, write ? "user_store" : "user_load", a, static a => a.P.AccessLoop(a));
        return new UserAccessResult(done, sig, r.Returned ? null : r.Outcome);
    }

    private int AccessLoop(UserAccess a)
    {
        var len = (ulong)(a.Write ? a.Data.Length : a.Into.Length);
        for (var attempt = 0; attempt < MaxRestarts; attempt++)
        {
            var done = a.Done;
            var at = a.Addr.Value + done;
            var ok = Machine.Cpu.Probe(Space.User, at, len - done, a.Write, userMode: true, out var trap);
            if (a.Write) Machine.Cpu.WriteIn(Space.User, at, a.Data.Slice((int)done, (int)ok));
            else Machine.Cpu.ReadOut(Space.User, at, a.Into.Slice((int)done, (int)ok));
            a.Done += ok;
            if (trap.IsNone) return 0;
            var before = _received.Count;
            UserTrap(trap);
            ReturnToUser();
            if (!Alive) { a.Sig = KilledBy; return 0; }
            if (_received.Count > before) { a.Sig = _received[^1]; return 0; }
            // No signal: the instruction restarts.
        }
        throw new KernelLivelockException($"user access at 0x{a.Addr.Value + a.Done:x} keeps faulting with no signal");
    }

    /// <summary>A trap in user mode: a #PF that handle_mm_fault could not fix → signal; a #MC → do_machine_check.</summary>
    private void UserTrap(in Trap trap)
    {
        if (trap.Kind == TrapKind.HostFault) throw Machine.Cpu.HostFault(trap);
        if (trap.Kind == TrapKind.MachineCheck)
        {
            Machine.Mce.DoMachineCheck(new MceEvent(trap.Phys, UserMode: true, ExSite.Memcpy, SourceIsUser: true, trap.Va));
            return;
        }
        var f = trap.Fault;
        if ((f & VmFault.VM_FAULT_BADACCESS) != 0)
            ForceSig(new SigInfo(Sig.SIGSEGV, Sig.SEGV_ACCERR, trap.Va, 0, true));
        else if ((f & VmFault.VM_FAULT_BADMAP) != 0)
            ForceSig(new SigInfo(Sig.SIGSEGV, Sig.SEGV_MAPERR, trap.Va, 0, true));
        else if ((f & (VmFault.VM_FAULT_HWPOISON | VmFault.VM_FAULT_HWPOISON_LARGE)) != 0)
        {
            // do_sigbus: the exact faulting address, lsb of the mapping.
            Machine.State.Printk($"MCE: Killing {Comm}:{Pid} due to hardware memory corruption fault at {trap.Va:x}");
            var lsb = (f & VmFault.VM_FAULT_HWPOISON_LARGE) != 0 ? (Mm.ShiftAt(trap.Va) is > 0 and var hs ? hs : Hugetlb.HPAGE_SHIFT) : PageDefs.PAGE_SHIFT;
            ForceSig(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, trap.Va, (short)lsb, true));
        }
        else if ((f & VmFault.VM_FAULT_SIGBUS) != 0)
            ForceSig(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, trap.Va, 0, true));
        else if ((f & VmFault.VM_FAULT_OOM) != 0)
            ForceSig(new SigInfo(Sig.SIGKILL, 0, 0, 0, true));
        else
            ForceSig(new SigInfo(Sig.SIGSEGV, Sig.SEGV_MAPERR, trap.Va, 0, true));
    }
}
