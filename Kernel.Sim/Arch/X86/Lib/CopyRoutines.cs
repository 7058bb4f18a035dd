using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Arch.X86;

/// <summary>
/// The x86-64 copy routines with the kernel's exact residue rules: arch/x86/lib/copy_mc.c and
/// copy_mc_64.S (copy_mc_fragile, copy_mc_enhanced_fast_string, copy_mc_to_kernel/user),
/// memcpy_64.S (memcpy, memcpy_mcsafe_unrolled), copy_user_64.S (copy_user_generic /
/// rep_movs_alternative), copy_user_uncached_64.S (__copy_user_nocache), usercopy_64.c
/// (__copy_user_flushcache, __memcpy_flushcache), getuser.S/putuser.S, clear_user, and the generic
/// copy_to_user / copy_from_user of include/linux/uaccess.h. Every routine returns bytes NOT copied
/// unless its doc says otherwise.
/// </summary>
public sealed partial class CopyRoutines(Cpu cpu, CpuModel model, KernelProfile profile, Tracer trace) : ICopyRoutines
{
    /// <summary>copy_user_generic's traced name on this release and CPU (chosen once: a disabled trace evaluates nothing per call).</summary>
    private readonly string _copyUserGenericFn =
        profile.CopyUserMcTail == CopyUserMcTail.RepMovsAlternative && !model.Fsrm ? "rep_movs_alternative" : "copy_user_generic";

    /// <summary>access_ok(ptr, size) (arch/x86/include/asm/uaccess_64.h __access_ok, 6.x non-constant form).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool AccessOk(UserPtr ptr, ulong size)
    {
        var sum = unchecked(ptr.Value + size);
        return sum >= ptr.Value && sum <= PageDefs.USER_PTR_MAX;
    }

    // ---- helpers ------------------------------------------------------------------------------

    private ulong LoadLimit(Space ss, ulong s, ulong len, out Trap t) => cpu.Probe(ss, s, len, write: false, userMode: false, out t);

    private ulong StoreLimit(Space ds, ulong d, ulong len, out Trap t) => cpu.Probe(ds, d, len, write: true, userMode: false, out t);

    /// <summary>
    /// Byte-ordered copy limits (rep movsb / memcpy semantics): the first byte whose load or store traps,
    /// and that trap (the load wins a tie: it executes first).
    /// </summary>
    private ulong ByteLimits(Space ds, ulong d, Space ss, ulong s, ulong len, out Trap trap)
    {
        var sl = LoadLimit(ss, s, len, out var st);
        var dl = StoreLimit(ds, d, sl, out var dt);
        if (dl < sl)
        {
            trap = dt;
            return dl;
        }
        trap = st;
        return sl;
    }

    // ---- memcpy (no recovery) -------------------------------------------------------------------

    /// <summary>memcpy between kernel addresses: no exception-table entry, so a #MC panics and a #PF oopses.</summary>
    public void Memcpy(KernelPtr dst, KernelPtr src, ulong len) => MemcpyRaw(Space.Kernel, dst.Value, Space.Kernel, src.Value, len, ExSite.Memcpy);

    /// <summary>
    /// copy_page (arch/x86/lib/copy_page_64.S; what copy_user_page and copy_user_highpage use on x86): one 4 KiB page,
    /// kernel to kernel, with no exception-table entry, so poison in the source is a fatal kernel machine check.
    /// </summary>
    public void CopyPage(KernelPtr to, KernelPtr from) => MemcpyRaw(Space.Kernel, to.Value, Space.Kernel, from.Value, PageDefs.PAGE_SIZE, ExSite.Memcpy, "copy_page");

    internal void MemcpyRaw(Space ds, ulong d, Space ss, ulong s, ulong len, ExSite site, string? name = null)
    {
        using var _ = trace.Enabled ? trace.Fn(name ?? (site == ExSite.MemcpyFlushcache ? "__memcpy_flushcache" : "memcpy"), "x86") : default;
        if (cpu.TryMoveAll(ds, d, ss, s, len)) return;
        var stop = ByteLimits(ds, d, ss, s, len, out var trap);
        cpu.Move(ds, d, ss, s, stop);
        if (!trap.IsNone) cpu.KernelTrap(trap, site); // never returns: no fixup
    }

    /// <summary>memcpy_flushcache (usercopy_64.c __memcpy_flushcache): non-temporal kernel copy, no fault handling.</summary>
    public void MemcpyFlushcache(KernelPtr dst, KernelPtr src, ulong len) => MemcpyRaw(Space.Kernel, dst.Value, Space.Kernel, src.Value, len, ExSite.MemcpyFlushcache);

    /// <summary>memset of kernel memory (no fault handling).</summary>
    public void Memset(KernelPtr dst, byte value, ulong len)
    {
        var dl = StoreLimit(Space.Kernel, dst.Value, len, out var t);
        cpu.Fill(Space.Kernel, dst.Value, value, dl);
        if (!t.IsNone) cpu.KernelTrap(t, ExSite.Memcpy);
    }

    // ---- copy_mc_fragile / __memcpy_mcsafe ---------------------------------------------------------

    /// <summary>
    /// copy_mc_fragile (copy_mc_64.S; __memcpy_mcsafe 4.18–5.9): leading bytes until the source is
    /// 8-aligned, quadwords, trailing bytes. A load fault counts the faulting unit as not copied (no
    /// retry); a store fault on a quadword retries byte by byte (copy_mc_fragile_handle_tail), so
    /// destination faults are byte-exact. Returns bytes not copied.
    /// </summary>
    internal ulong CopyMcFragile(Space ds, ulong d, Space ss, ulong s, ulong len, string name = "copy_mc_fragile")
    {
        using var _ = trace.Fn(name, "x86");
        if (len == 0) return 0;
        if (cpu.TryMoveAll(ds, d, ss, s, len)) return 0;
        ulong lead = len < 8 ? 0 : (8 - (s & 7)) & 7;
        ulong wordsEnd = len < 8 ? 0 : lead + ((len - lead) / 8) * 8;
        ulong UnitStart(ulong x) => x >= lead && x < wordsEnd ? lead + ((x - lead) / 8) * 8 : x;
        var f = LoadLimit(ss, s, len, out var st);
        var us = f < len ? UnitStart(f) : len;
        var g = StoreLimit(ds, d, us, out var dt);
        if (g < us)
        {
            // The store faults first. Byte stores are exact; a quadword store goes to the byte tail, which
            // copies up to the first inaccessible byte and faults again there.
            cpu.Move(ds, d, ss, s, g);
            cpu.KernelTrap(dt, ExSite.CopyMcFragileStore);
            if (g >= lead && g < wordsEnd) cpu.KernelTrap(dt, ExSite.CopyMcFragileStore);
            return len - g;
        }
        cpu.Move(ds, d, ss, s, us);
        if (us < len) cpu.KernelTrap(st, ExSite.CopyMcFragileLoad);
        return len - us;
    }

    /// <summary>
    /// copy_mc_enhanced_fast_string: one rep movsb with an MCE-safe entry; returns RCX at the fault.
    /// #PF stops at the first inaccessible byte; #MC where the CPU model says (start of the poisoned line).
    /// </summary>
    internal ulong CopyMcEnhancedFastString(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        if (!trace.Enabled) return CopyMcEnhancedFastStringBody(ds, d, ss, s, len); // tracing off: no traced frame at all
        using var _ = trace.Fn("copy_mc_enhanced_fast_string", "x86");
        return CopyMcEnhancedFastStringBody(ds, d, ss, s, len);
    }

    private ulong CopyMcEnhancedFastStringBody(Space ds, ulong d, Space ss, ulong s, ulong len) =>
        cpu.TryMoveAll(ds, d, ss, s, len) ? 0 : CopyMcEnhancedFastStringSlow(ds, d, ss, s, len);

    /// <summary>
    /// True when copy_mc_to_kernel and copy_mc_to_user (copy_mc.c, 5.10+) dispatch straight to
    /// copy_mc_enhanced_fast_string with no traced frame: tracing off, an ERMS CPU, no copy_mc_fragile_key. They then
    /// call its body at once instead of through the dispatch and trace wrappers (the same checks, made once).
    /// </summary>
    private bool FastStringDirect
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => profile.CopyMcFastString && !model.FragileQuirk && model.Erms && !trace.Enabled;
    }

    /// <summary>copy_mc_enhanced_fast_string after the fault-free copy was refused: probe, move the prefix, take the trap.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong CopyMcEnhancedFastStringSlow(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        var stop = ByteLimits(ds, d, ss, s, len, out var trap);
        if (trap.Kind == TrapKind.MachineCheck && model.McStop == FastStringMcStop.NothingCopied) stop = 0;
        cpu.Move(ds, d, ss, s, stop);
        if (!trap.IsNone) cpu.KernelTrap(trap, ExSite.CopyMcFastString);
        return len - stop;
    }

    /// <summary>
    /// memcpy_mcsafe_unrolled (4.8–4.17, memcpy_64.S): byte loop to 8-align the source, 64-byte blocks of
    /// 4 loads/4 stores/4 loads/4 stores, quadwords, bytes. Any load fault returns −EFAULT; stores made before
    /// the faulting load stay written. Returns 0 or −EFAULT.
    /// </summary>
    internal long MemcpyMcsafeUnrolled(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn("memcpy_mcsafe_unrolled", "x86");
        if (cpu.TryMoveAll(ds, d, ss, s, len)) return 0;
        var f = LoadLimit(ss, s, len, out var st);
        ulong lead = len < 8 ? 0 : Math.Min(len, (8 - (s & 7)) & 7);
        var rest = len - lead;
        var blocksEnd = lead + (rest / 64) * 64;
        var wordsEnd = blocksEnd + ((len - blocksEnd) / 8) * 8;
        ulong stored;
        if (f >= len) stored = len;
        else if (f < lead) stored = f;
        else if (f < blocksEnd)
        {
            var b = lead + ((f - lead) / 64) * 64;
            stored = b + (((f - b) / 8) >= 4 ? 32UL : 0UL);
        }
        else if (f < wordsEnd) stored = blocksEnd + ((f - blocksEnd) / 8) * 8;
        else stored = f;
        var g = StoreLimit(ds, d, stored, out var dt);
        cpu.Move(ds, d, ss, s, Math.Min(stored, g));
        if (g < stored) cpu.KernelTrap(dt, ExSite.Memcpy); // destination assumed kernel memory: no entry → oops
        if (f >= len) return 0;
        cpu.KernelTrap(st, ExSite.McsafeUnrolledLoad);
        return -Errno.EFAULT;
    }

    // ---- the raw routines, callable directly (as tools/testing/nvdimm/test/nfit.c does) ----------------

    /// <summary>
    /// copy_mc_fragile(dst, src, len) (arch/x86/lib/copy_mc_64.S, 5.10+) called directly, whatever the CPU model and
    /// copy_mc_fragile_key say: the A6–A9 algorithm on kernel memory. Returns bytes not copied; a load fault (#MC
    /// or #PF) stops at the faulting unit, a store fault is byte-exact. nfit_test's copy_mc_test calls it this way.
    /// </summary>
    public ulong CopyMcFragile(KernelPtr dst, KernelPtr src, ulong len) => CopyMcFragile(Space.Kernel, dst.Value, Space.Kernel, src.Value, len);

    /// <summary>
    /// __memcpy_mcsafe(dst, src, cnt) (arch/x86/lib/memcpy_64.S, 4.18–5.9; renamed copy_mc_fragile in 5.10) called
    /// directly, bypassing memcpy_mcsafe's mcsafe_key dispatch, as nfit_test's mcsafe_test does. The same algorithm
    /// as <see cref="CopyMcFragile(KernelPtr, KernelPtr, ulong)"/>; returns bytes not copied.
    /// </summary>
    public ulong RawMemcpyMcsafe(KernelPtr dst, KernelPtr src, ulong len) => CopyMcFragile(Space.Kernel, dst.Value, Space.Kernel, src.Value, len, "__memcpy_mcsafe");

    /// <summary>
    /// copy_mc_enhanced_fast_string(dst, src, len) (arch/x86/lib/copy_mc_64.S, 5.10+) called directly, whether or not
    /// the CPU has ERMS: one rep movsb; a #PF stops at the first inaccessible byte, a #MC where
    /// <see cref="CpuModel.McStop"/> says. Returns bytes not copied.
    /// </summary>
    public ulong CopyMcEnhancedFastString(KernelPtr dst, KernelPtr src, ulong len) => CopyMcEnhancedFastString(Space.Kernel, dst.Value, Space.Kernel, src.Value, len);

    /// <summary>
    /// memcpy_mcsafe_unrolled(dst, src, cnt) (arch/x86/lib/memcpy_64.S, 4.8–4.17) called directly, bypassing
    /// mcsafe_key: 0, or −EFAULT after any load fault (stores before it stay written); a store fault has no
    /// exception-table entry and oopses.
    /// </summary>
    public long MemcpyMcsafeUnrolled(KernelPtr dst, KernelPtr src, ulong len) => MemcpyMcsafeUnrolled(Space.Kernel, dst.Value, Space.Kernel, src.Value, len);

    // ---- copy_mc_to_kernel / copy_mc_to_user (and their E0/E1 forms) ------------------------------

    /// <summary>
    /// memcpy_mcsafe() as the release has it: ≤4.17 returns 0/−EFAULT (memcpy_mcsafe_unrolled behind
    /// mcsafe_key, else memcpy); 4.18–5.9 returns bytes remaining (__memcpy_mcsafe behind mcsafe_key, else
    /// memcpy and 0); from 5.10 this is <see cref="CopyMcToKernel(KernelPtr, KernelPtr, ulong)"/>.
    /// </summary>
    public long MemcpyMcsafe(KernelPtr dst, KernelPtr src, ulong len)
    {
        if (profile.CopyMcFastString) return (long)CopyMcToKernel(dst, src, len);
        using var _ = trace.Fn("memcpy_mcsafe", "x86");
        if (!model.FragileQuirk)
        {
            MemcpyRaw(Space.Kernel, dst.Value, Space.Kernel, src.Value, len, ExSite.Memcpy);
            return 0;
        }
        if (!profile.McsafeReturnsRemaining)
            return MemcpyMcsafeUnrolled(Space.Kernel, dst.Value, Space.Kernel, src.Value, len);
        return (long)CopyMcFragile(Space.Kernel, dst.Value, Space.Kernel, src.Value, len);
    }

    /// <summary>
    /// copy_mc_to_kernel (copy_mc.c, 5.10+): copy_mc_fragile when copy_mc_fragile_key is on, else
    /// copy_mc_enhanced_fast_string on ERMS CPUs, else plain memcpy returning 0 (no recovery). On older
    /// profiles this is memcpy_mcsafe, with −EFAULT (≤4.17) reported as "nothing copied".
    /// </summary>
    public ulong CopyMcToKernel(KernelPtr dst, KernelPtr src, ulong len) => CopyMcToKernel(Space.Kernel, dst.Value, Space.Kernel, src.Value, len);

    internal ulong CopyMcToKernel(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        if (FastStringDirect) return CopyMcEnhancedFastStringBody(ds, d, ss, s, len);
        if (!profile.CopyMcFastString) return MemcpyMcsafeToKernel(ds, d, ss, s, len);
        // Tracing off: no traced frame at all, and the frame's try/finally is out of line, so this hot method has none.
        return trace.Enabled ? CopyMcToKernelTraced(ds, d, ss, s, len) : CopyMcToKernelBody(ds, d, ss, s, len);
    }

    /// <summary>copy_mc_to_kernel's traced frame around its body (tracing on).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong CopyMcToKernelTraced(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn("copy_mc_to_kernel", "x86");
        return CopyMcToKernelBody(ds, d, ss, s, len);
    }

    /// <summary>
    /// memcpy_mcsafe, what copy_mc_to_kernel is before 5.10 (see <see cref="MemcpyMcsafe"/>), with −EFAULT (≤4.17) as
    /// "nothing copied". Out of line: its traced frame's try/finally stays out of the 5.10+ hot path.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong MemcpyMcsafeToKernel(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn("memcpy_mcsafe", "x86");
        if (!model.FragileQuirk)
        {
            MemcpyRaw(ds, d, ss, s, len, ExSite.Memcpy);
            return 0;
        }
        if (!profile.McsafeReturnsRemaining)
            return MemcpyMcsafeUnrolled(ds, d, ss, s, len) == 0 ? 0 : len;
        return CopyMcFragile(ds, d, ss, s, len);
    }

    private ulong CopyMcToKernelBody(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        if (model.FragileQuirk) return CopyMcFragile(ds, d, ss, s, len);
        if (model.Erms) return CopyMcEnhancedFastString(ds, d, ss, s, len);
        MemcpyRaw(ds, d, ss, s, len, ExSite.Memcpy);
        return 0;
    }

    /// <summary>
    /// copy_mc_to_user (copy_mc.c, 5.10+): the same dispatch inside STAC/CLAC, falling back to
    /// copy_user_generic (handles #PF, not #MC). No access_ok: the caller checks. On 4.18–5.9 this is
    /// copy_to_user_mcsafe (__memcpy_mcsafe directly from ≈4.20; the memcpy_mcsafe wrapper before).
    /// </summary>
    public ulong CopyMcToUser(UserPtr dst, KernelPtr src, ulong len) => CopyMcToUserRaw(dst.Value, Space.Kernel, src.Value, len);

    internal ulong CopyMcToUserRaw(ulong d, Space ss, ulong s, ulong len)
    {
        using var u = cpu.Uaccess();
        if (FastStringDirect) return CopyMcEnhancedFastStringBody(Space.User, d, ss, s, len);
        if (!profile.CopyMcFastString) return CopyToUserMcsafe(d, ss, s, len);
        // Tracing off: no traced frame at all, and the frame's try/finally is out of line (the uaccess window's stays).
        return trace.Enabled ? CopyMcToUserTraced(d, ss, s, len) : CopyMcToUserBody(d, ss, s, len);
    }

    /// <summary>copy_mc_to_user's traced frame around its body (tracing on; called inside the uaccess window).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong CopyMcToUserTraced(ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn("copy_mc_to_user", "x86");
        return CopyMcToUserBody(d, ss, s, len);
    }

    /// <summary>
    /// copy_to_user_mcsafe (4.18–5.9), what copy_mc_to_user is before 5.10; called inside the uaccess window. Out of
    /// line: its traced frame's try/finally stays out of the 5.10+ hot path.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ulong CopyToUserMcsafe(ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn("copy_to_user_mcsafe", "x86");
        if (profile.CopyToUserMcsafeAlwaysCareful || model.FragileQuirk) return CopyMcFragile(Space.User, d, ss, s, len);
        MemcpyRaw(Space.User, d, ss, s, len, ExSite.Memcpy); // the memcpy_mcsafe fallback: no entry
        return 0;
    }

    private ulong CopyMcToUserBody(ulong d, Space ss, ulong s, ulong len)
    {
        if (model.FragileQuirk) return CopyMcFragile(Space.User, d, ss, s, len);
        if (model.Erms) return CopyMcEnhancedFastString(Space.User, d, ss, s, len);
        return CopyUserGeneric(Space.User, d, ss, s, len);
    }

    // ---- copy_user_generic --------------------------------------------------------------------------

    private bool RepMovsb(ulong len) => model.Fsrm || (model.Erms && len >= 64);

    /// <summary>
    /// copy_user_generic (uaccess_64.h; rep_movs_alternative from 6.4): byte-exact for #PF in every
    /// release. A #MC (kernel copy from a poisoned user page) follows the release's tail handling
    /// (<see cref="CopyUserMcTail"/>), which decides the count and how many machine checks are taken.
    /// </summary>
    internal ulong CopyUserGeneric(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn(_copyUserGenericFn, "x86");
        if (cpu.TryMoveAll(ds, d, ss, s, len)) return 0;
        var stop = ByteLimits(ds, d, ss, s, len, out var trap);
        if (trap.Kind != TrapKind.MachineCheck)
        {
            cpu.Move(ds, d, ss, s, stop);
            if (!trap.IsNone) cpu.KernelTrap(trap, ExSite.CopyUser);
            return len - stop;
        }
        if (RepMovsb(len) && model.McStop == FastStringMcStop.NothingCopied) stop = 0;
        // Where the main loop stopped: rep movsb at the line; otherwise at the destination-aligned quadword
        // holding it (ALIGN_DESTINATION then quadword loops) [derived].
        var unit = RepMovsb(len) ? stop : QuadwordUnitStart(d, len, stop);
        switch (profile.CopyUserMcTail)
        {
            case CopyUserMcTail.PretendSuccess:
                cpu.Move(ds, d, ss, s, unit);
                cpu.KernelTrap(trap, ExSite.CopyUser);
                if (trace.Enabled) trace.Event("tail", "copy_user_handle_tail: trap 18 in RAX → pretend success (return 0)");
                return 0;
            case CopyUserMcTail.SkipRetryOnMc:
                cpu.Move(ds, d, ss, s, unit);
                cpu.KernelTrap(trap, ExSite.CopyUser);
                return len - unit;
            case CopyUserMcTail.RetryAfterMc:
                cpu.Move(ds, d, ss, s, unit);
                cpu.KernelTrap(trap, ExSite.CopyUser);
                cpu.Move(ds, d + unit, ss, s + unit, stop - unit);
                cpu.KernelTrap(trap, ExSite.CopyUser); // the byte retry consumes the line again
                return len - stop;
            default:
                cpu.Move(ds, d, ss, s, stop);
                cpu.KernelTrap(trap, ExSite.CopyUser);
                // Word/quadword loops fall into the byte loop, which takes a second #MC at the line [derived].
                if (!RepMovsb(len) && len >= 8 && stop < len - (len % 8)) cpu.KernelTrap(trap, ExSite.CopyUser);
                return len - stop;
        }
    }

    private static ulong QuadwordUnitStart(ulong d, ulong len, ulong x)
    {
        if (len < 8) return x;
        var a = Math.Min(len, (8 - (d & 7)) & 7);
        if (x < a) return x;
        var wordsEnd = a + ((len - a) / 8) * 8;
        return x < wordsEnd ? a + ((x - a) / 8) * 8 : x;
    }

    /// <summary>raw_copy_to_user: copy_user_generic under STAC; no access_ok.</summary>
    public ulong RawCopyToUser(UserPtr to, KernelPtr from, ulong n)
    {
        using var u = cpu.Uaccess();
        return CopyUserGeneric(Space.User, to.Value, Space.Kernel, from.Value, n);
    }

    /// <summary>raw_copy_from_user: copy_user_generic under STAC; no access_ok, no zeroing.</summary>
    public ulong RawCopyFromUser(KernelPtr to, UserPtr from, ulong n)
    {
        using var u = cpu.Uaccess();
        return CopyUserGeneric(Space.Kernel, to.Value, Space.User, from.Value, n);
    }

    /// <summary>copy_to_user (include/linux/uaccess.h): n &gt; INT_MAX or !access_ok → n, nothing written.</summary>
    public ulong CopyToUser(UserPtr to, KernelPtr from, ulong n)
    {
        using var _ = trace.Fn("_copy_to_user", "uaccess");
        if (n > int.MaxValue) return n; // check_copy_size WARN
        if (!AccessOk(to, n)) return n;
        return RawCopyToUser(to, from, n);
    }

    /// <summary>
    /// copy_from_user (_copy_from_user): n &gt; INT_MAX → n with no zeroing; !access_ok → zero the whole
    /// kernel buffer, return n; a short copy zeroes the uncopied tail of the kernel buffer.
    /// </summary>
    public ulong CopyFromUser(KernelPtr to, UserPtr from, ulong n)
    {
        using var _ = trace.Fn("_copy_from_user", "uaccess");
        if (n > int.MaxValue) return n;
        ulong res = n;
        if (AccessOk(from, n)) res = RawCopyFromUser(to, from, n);
        if (res != 0) Memset(to + (n - res), 0, res);
        return res;
    }

    /// <summary>__copy_from_user_inatomic: raw copy with page faults disabled, no zeroing.</summary>
    public ulong CopyFromUserInatomic(KernelPtr to, UserPtr from, ulong n)
    {
        cpu.PagefaultDisable();
        try { return RawCopyFromUser(to, from, n); }
        finally { cpu.PagefaultEnable(); }
    }

    /// <summary>
    /// copy_in_user(to, from, n) (include/linux/uaccess.h, CONFIG_COMPAT, up to 5.14): access_ok on both user ranges,
    /// then raw_copy_in_user = copy_user_generic between two user addresses under STAC. Returns bytes not copied
    /// (n when either access_ok fails; byte-exact for #PF); nothing is zeroed. −ENOSYS on releases without it
    /// (removed with compat_alloc_user_space, C14).
    /// </summary>
    public long CopyInUser(UserPtr to, UserPtr from, ulong n)
    {
        if (!profile.CopyInUser) return -Errno.ENOSYS;
        using var _ = trace.Fn("copy_in_user", "uaccess");
        if (!AccessOk(to, n) || !AccessOk(from, n)) return (long)n;
        using var u = cpu.Uaccess();
        return (long)CopyUserGeneric(Space.User, to.Value, Space.User, from.Value, n);
    }
}
