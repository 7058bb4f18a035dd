using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Arch.X86;

/// <summary>The non-temporal copies of <see cref="CopyRoutines"/>: __copy_user_nocache and the flushcache user copies.</summary>
public sealed partial class CopyRoutines
{
    // ---- __copy_user_nocache / flushcache --------------------------------------------------------------

    /// <summary>
    /// __copy_user_nocache (copy_user_uncached_64.S, 6.4+): cached head stores to 8-align the destination,
    /// a 64-byte movnti loop (4 loads, 4 stores, 4 loads, 4 stores), quadwords, then 4/2/1-byte tails.
    /// Faults are not byte-exact: a quadword load fault tries one 4-byte unit and returns, so progress can be
    /// up to 7 bytes short of the accessible prefix (C6, WE17).
    /// </summary>
    internal ulong CopyUserNocache(Space ds, ulong d, Space ss, ulong s, ulong len)
    {
        using var _ = trace.Fn("__copy_user_nocache", "x86");
        if (cpu.TryMoveAll(ds, d, ss, s, len)) return 0;
        var f = LoadLimit(ss, s, len, out var st);
        var g = StoreLimit(ds, d, Math.Min(len, f + 8), out var dt);
        if (f >= len && g >= len)
        {
            cpu.Move(ds, d, ss, s, len);
            return 0;
        }
        ulong pos = 0, n = len;
        var traps = new TrapSink(cpu, st, dt);
        ulong rem;
        if (!Phases(d, f, g, ref pos, ref n, ref traps, out rem)) rem = n;
        var copied = len - rem;
        cpu.Move(ds, d, ss, s, copied);
        traps.Dispatch();
        return rem;
    }

    /// <summary>Counts the faulting loads/stores the nocache copy takes, to dispatch them after the move.</summary>
    private struct TrapSink(Cpu cpu, Trap load, Trap store)
    {
        private int _loads;
        private int _stores;
        public void Load() => _loads++;
        public void Store() => _stores++;
        public readonly void Dispatch()
        {
            for (var i = 0; i < _stores; i++) cpu.KernelTrap(store, ExSite.CopyUserNocache);
            for (var i = 0; i < _loads; i++) cpu.KernelTrap(load, ExSite.CopyUserNocache);
        }
    }

    /// <summary>Walks the nocache phases; returns true with rem set when a fault returned early.</summary>
    private static bool Phases(ulong d, ulong f, ulong g, ref ulong pos, ref ulong n, ref TrapSink traps, out ulong rem)
    {
        rem = 0;
        bool Unit(ulong p, ulong size, ref TrapSink t)
        {
            if (f < p + size) { t.Load(); return false; }
            if (g < p + size) { t.Store(); return false; }
            return true;
        }
        var a = d & 7;
        if (a != 0)
        {
            if ((a & 1) != 0)
            {
                if (n == 0) { rem = 0; return true; }
                if (!Unit(pos, 1, ref traps)) { rem = n; return true; }
                pos += 1; n -= 1; a += 1;
            }
            if ((a & 2) != 0)
            {
                if (n < 2) return Tails(f, g, ref pos, ref n, ref traps, out rem, startAt: 1);
                if (!Unit(pos, 2, ref traps)) { rem = n; return true; }
                pos += 2; n -= 2; a += 2;
            }
            if ((a & 4) != 0)
            {
                if (n < 4) return Tails(f, g, ref pos, ref n, ref traps, out rem, startAt: 2);
                if (!Unit(pos, 4, ref traps)) { rem = n; return true; }
                pos += 4; n -= 4;
            }
        }
        // 64-byte unrolled loop: skip clean blocks arithmetically.
        if (n >= 64)
        {
            var firstBad = Math.Min(f, g);
            var clean = firstBad > pos ? (firstBad - pos) / 64 : 0;
            clean = Math.Min(clean, n / 64);
            pos += clean * 64; n -= clean * 64;
            while (n >= 64)
            {
                if (f < pos + 32) { traps.Load(); break; }               // loads q0..q3
                if (g < pos + 32) { traps.Store(); rem = n - 8 * ((g - pos) / 8); return true; }
                if (f < pos + 64) { traps.Load(); pos += 32; n -= 32; break; } // .Lfixup32
                if (g < pos + 64) { traps.Store(); rem = n - 8 * ((g - pos) / 8); return true; }
                pos += 64; n -= 64;
            }
        }
        // Quadword loop.
        if (n >= 8)
        {
            var firstBad = Math.Min(f, g);
            var clean = firstBad > pos ? (firstBad - pos) / 8 : 0;
            clean = Math.Min(clean, n / 8);
            pos += clean * 8; n -= clean * 8;
            if (n >= 8)
            {
                if (f < pos + 8)
                {
                    traps.Load();
                    // .Llast4: one 4-byte load + movnti at the same position, then return.
                    if (f < pos + 4) { traps.Load(); rem = n; return true; }
                    if (g < pos + 4) { traps.Store(); rem = n; return true; }
                    rem = n - 4;
                    return true;
                }
                traps.Store(); // g < pos + 8
                rem = n;
                return true;
            }
        }
        return Tails(f, g, ref pos, ref n, ref traps, out rem, startAt: 4);
    }

    /// <summary>The 4/2/1-byte tail units, entered at .L4 (4), .Lword (2) or .Lbyte (1).</summary>
    private static bool Tails(ulong f, ulong g, ref ulong pos, ref ulong n, ref TrapSink traps, out ulong rem, ulong startAt)
    {
        for (ulong size = 4; size >= 1; size >>= 1)
        {
            if (size > startAt || (n & size) == 0) continue;
            if (f < pos + size) { traps.Load(); rem = n; return true; }
            if (g < pos + size) { traps.Store(); rem = n; return true; }
            pos += size; n -= size;
        }
        rem = n;
        return true;
    }

    /// <summary>__copy_from_user_inatomic_nocache: __copy_user_nocache under STAC (copy_from_iter_nocache's user step).</summary>
    public ulong CopyFromUserInatomicNocache(KernelPtr dst, UserPtr src, ulong len)
    {
        using var u = cpu.Uaccess();
        return CopyUserNocache(Space.Kernel, dst.Value, Space.User, src.Value, len);
    }

    /// <summary>__copy_from_user_flushcache (usercopy_64.c): __copy_user_nocache under STAC; the result is returned unchanged.</summary>
    public ulong CopyFromUserFlushcache(KernelPtr dst, UserPtr src, ulong len)
    {
        using var _ = trace.Fn("__copy_user_flushcache", "x86");
        using var u = cpu.Uaccess();
        return CopyUserNocache(Space.Kernel, dst.Value, Space.User, src.Value, len);
    }
}
