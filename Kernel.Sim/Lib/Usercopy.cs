using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Lib;

/// <summary>
/// The generic user-copy helpers built on the arch primitives of <see cref="ICopyRoutines"/>: check_zeroed_user
/// (lib/usercopy.c), copy_struct_from_user (include/linux/uaccess.h), strncpy_from_user (lib/strncpy_from_user.c)
/// and strnlen_user (lib/strnlen_user.c). They read user memory a word at a time with unsafe_get_user inside a
/// user_access_begin block, exactly as the kernel does, so which bytes are read — and where a fault stops them —
/// is the kernel's (C10–C13).
/// </summary>
public sealed class Usercopy(ICopyRoutines copy, Cpu cpu, KernelProfile profile, MachineState state, Tracer trace)
{
    private const ulong Word = sizeof(ulong);
    private bool _warnedObjectSize;

    /// <summary>aligned_byte_mask(n) on little-endian: the low n bytes of a word.</summary>
    private static ulong AlignedByteMask(ulong n) => n >= Word ? ulong.MaxValue : (1UL << (int)(8 * n)) - 1;

    /// <summary>has_zero + find_zero (asm/word-at-a-time.h): the index of the first zero byte, or −1.</summary>
    private static int FindZero(ulong c)
    {
        for (var i = 0; i < 8; i++)
            if (((c >> (8 * i)) & 0xff) == 0) return i;
        return -1;
    }

    /// <summary>
    /// check_zeroed_user(from, size) (lib/usercopy.c, 5.4+): 1 when every byte of the user range is zero, 0 when one
    /// is not, −EFAULT when user_read_access_begin refuses the 8-aligned range or a word load faults before a
    /// non-zero word was seen. Reads the aligned words covering the range, masking the bytes outside it (C10).
    /// −ENOSYS on releases before 5.4.
    /// </summary>
    public int CheckZeroedUser(UserPtr from, ulong size)
    {
        if (!profile.CopyStructFromUser) return -Errno.ENOSYS;
        using var _ = trace.Fn("check_zeroed_user", "lib");
        if (size == 0) return 1;
        var align = from.Value % Word;
        from -= align;
        size += align;
        if (!copy.UserAccessBegin(from, size)) return -Errno.EFAULT;
        try
        {
            if (copy.UnsafeGetUser(from, (int)Word, out var val) != 0) return -Errno.EFAULT;
            if (align != 0) val &= ~AlignedByteMask(align);
            while (size > Word)
            {
                if (val != 0) return 0;
                from += Word;
                size -= Word;
                if (copy.UnsafeGetUser(from, (int)Word, out val) != 0) return -Errno.EFAULT;
            }
            if (size < Word) val &= AlignedByteMask(size);
            return val == 0 ? 1 : 0;
        }
        finally
        {
            copy.UserAccessEnd();
        }
    }

    /// <summary>
    /// copy_struct_from_user(dst, ksize, src, usize) (include/linux/uaccess.h, 5.4+) for an extensible syscall struct:
    /// usize &lt; ksize → zero dst[usize, ksize) and copy usize bytes; usize &gt; ksize → the bytes of src past ksize
    /// must be zero (check_zeroed_user: 0 → −E2BIG, −EFAULT passed on) and ksize bytes are copied; equal → copied.
    /// A failing copy_from_user → −EFAULT. <paramref name="dstObjectSize"/> is what the compiler knows of dst
    /// (__builtin_object_size(dst, 1), ulong.MaxValue when unknown): from 6.3 (≈) ksize beyond it WARNs and returns
    /// −E2BIG before anything is touched (C11). −ENOSYS on releases before 5.4.
    /// </summary>
    public int CopyStructFromUser(KernelPtr dst, ulong ksize, UserPtr src, ulong usize, ulong dstObjectSize = ulong.MaxValue)
    {
        if (!profile.CopyStructFromUser) return -Errno.ENOSYS;
        using var _ = trace.Fn("copy_struct_from_user", "uaccess");
        var size = Math.Min(ksize, usize);
        var rest = Math.Max(ksize, usize) - size;
        if (profile.CopyStructFromUserObjectSizeCheck && ksize > dstObjectSize)
        {
            if (!_warnedObjectSize) state.Printk("WARNING: at include/linux/uaccess.h copy_struct_from_user (ksize > __builtin_object_size(dst, 1))");
            _warnedObjectSize = true;
            return -Errno.E2BIG;
        }
        if (usize < ksize) copy.Memset(dst + size, 0, rest);
        else if (usize > ksize)
        {
            var ret = CheckZeroedUser(src + size, rest);
            if (ret <= 0) return ret == 0 ? -Errno.E2BIG : ret;
        }
        return copy.CopyFromUser(dst, src, size) != 0 ? -Errno.EFAULT : 0;
    }

    /// <summary>
    /// strncpy_from_user(dst, src, count) (lib/strncpy_from_user.c): the string's length without the NUL; count
    /// when no NUL came within count bytes (dst is then not terminated); −EFAULT when src is not below TASK_SIZE_MAX or
    /// a byte load faults (the bytes before it stay copied); 0 for count ≤ 0. Words are stored whole — from 5.11 (≈)
    /// the last word's bytes from the NUL on are zeroed, before they are the user's bytes — so up to 7 bytes of dst
    /// past the NUL are written; a word load that faults falls back to byte loads (C12).
    /// </summary>
    public long StrncpyFromUser(KernelPtr dst, UserPtr src, long count)
    {
        using var _ = trace.Fn("strncpy_from_user", "lib");
        if (count <= 0) return 0;
        if (src.Value >= PageDefs.TASK_SIZE_MAX) return -Errno.EFAULT;
        var max = Math.Min(PageDefs.TASK_SIZE_MAX - src.Value, (ulong)count);
        if (!copy.UserAccessBegin(src, max)) return -Errno.EFAULT;
        try
        {
            return DoStrncpyFromUser(dst, src, (ulong)count, max);
        }
        finally
        {
            copy.UserAccessEnd();
        }
    }

    private long DoStrncpyFromUser(KernelPtr dst, UserPtr src, ulong count, ulong max)
    {
        ulong res = 0;
        Span<byte> w = stackalloc byte[(int)Word];
        // x86-64 has CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS: the word loop runs whatever the alignment.
        while (max >= Word)
        {
            if (copy.UnsafeGetUser(src + res, (int)Word, out var c) != 0) break; // fall back to byte-at-a-time
            var z = FindZero(c);
            if (z >= 0 && profile.StrncpyFromUserMasksAfterNul) c &= AlignedByteMask((ulong)z);
            BitConverter.TryWriteBytes(w, c);
            KernelStore(dst + res, w);
            if (z >= 0) return (long)res + z;
            res += Word;
            max -= Word;
        }
        while (max != 0)
        {
            if (copy.UnsafeGetUser(src + res, 1, out var c) != 0) return -Errno.EFAULT;
            w[0] = (byte)c;
            KernelStore(dst + res, w[..1]);
            if (c == 0) return (long)res;
            res++;
            max--;
        }
        return res >= count ? (long)res : -Errno.EFAULT;
    }

    /// <summary>
    /// strnlen_user(str, count) (lib/strnlen_user.c): the string's size including the NUL; a number larger than count
    /// when there is none within count bytes (count + 1, or the real size when the NUL lies in the last aligned word
    /// read — the kernel's documented overshoot); 0 on a fault, for count ≤ 0 or an address not below TASK_SIZE_MAX.
    /// Reads aligned words from str rounded down (C13).
    /// </summary>
    public long StrnlenUser(UserPtr str, long count)
    {
        using var _ = trace.Fn("strnlen_user", "lib");
        if (count <= 0) return 0;
        if (str.Value >= PageDefs.TASK_SIZE_MAX) return 0;
        var max = Math.Min(PageDefs.TASK_SIZE_MAX - str.Value, (ulong)count);
        if (!copy.UserAccessBegin(str, max)) return 0;
        try
        {
            var align = str.Value & (Word - 1);
            var src = str - align;
            max += align;
            if (copy.UnsafeGetUser(src, (int)Word, out var c) != 0) return 0;
            c |= AlignedByteMask(align);
            ulong res = 0;
            while (true)
            {
                var z = FindZero(c);
                if (z >= 0) return (long)(res + (ulong)z + 1 - align);
                res += Word;
                if (max <= Word) break;
                max -= Word;
                if (copy.UnsafeGetUser(src + res, (int)Word, out c) != 0) return 0;
            }
            res -= align;
            return res >= (ulong)count ? count + 1 : 0;
        }
        finally
        {
            copy.UserAccessEnd();
        }
    }

    /// <summary>A plain kernel store (no exception-table entry): a fault on it oopses.</summary>
    private void KernelStore(KernelPtr at, ReadOnlySpan<byte> data)
    {
        var ok = cpu.Probe(Space.Kernel, at.Value, (ulong)data.Length, write: true, userMode: false, out var t);
        cpu.WriteIn(Space.Kernel, at.Value, data[..(int)ok]);
        if (!t.IsNone) cpu.KernelTrap(t, ExSite.Memcpy);
    }
}
