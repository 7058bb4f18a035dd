using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Arch.X86;

/// <summary>The single-value and user_access_begin uaccess of <see cref="CopyRoutines"/>: clear_user, get_user / put_user, unsafe_get_user / unsafe_put_user.</summary>
public sealed partial class CopyRoutines
{
    // ---- clear_user, get_user, put_user -------------------------------------------------------------------

    /// <summary>clear_user: n when !access_ok; else __clear_user (rep stosb / rep_stos_alternative, byte-exact).</summary>
    public ulong ClearUser(UserPtr to, ulong n)
    {
        using var _ = trace.Fn("clear_user", "uaccess");
        if (!AccessOk(to, n)) return n;
        return ClearUserRaw(to.Value, n);
    }

    internal ulong ClearUserRaw(ulong to, ulong n)
    {
        using var u = cpu.Uaccess();
        var g = StoreLimit(Space.User, to, n, out var t);
        cpu.Fill(Space.User, to, 0, g);
        if (!t.IsNone) cpu.KernelTrap(t, ExSite.ClearUser);
        return n - g;
    }

    /// <summary>get_user(x, ptr) for size 1, 2, 4 or 8: 0, or −EFAULT with x = 0.</summary>
    public int GetUser(UserPtr ptr, int size, out ulong value)
    {
        using var _ = trace.Fn("get_user", "uaccess");
        value = 0;
        if (size is not (1 or 2 or 4 or 8)) return -Errno.EINVAL;
        if (ptr.Value > PageDefs.USER_PTR_MAX) return -Errno.EFAULT; // valid_user_address
        using var u = cpu.Uaccess();
        return LoadUser(ptr, size, out value);
    }

    /// <summary>put_user(x, ptr) for size 1, 2, 4 or 8: 0 or −EFAULT (a partial store is not made).</summary>
    public int PutUser(ulong value, UserPtr ptr, int size)
    {
        using var _ = trace.Fn("put_user", "uaccess");
        if (size is not (1 or 2 or 4 or 8)) return -Errno.EINVAL;
        if (ptr.Value > PageDefs.USER_PTR_MAX) return -Errno.EFAULT;
        using var u = cpu.Uaccess();
        return StoreUser(value, ptr, size);
    }

    // ---- user_access_begin / unsafe_get_user / unsafe_put_user / user_access_end --------------------------

    /// <summary>
    /// user_access_begin(ptr, len) (arch/x86/include/asm/uaccess.h): access_ok(ptr, len), then STAC. False (and no
    /// STAC) when the range is not a user range; user_read_access_begin / user_write_access_begin are the same on x86.
    /// </summary>
    public bool UserAccessBegin(UserPtr ptr, ulong len)
    {
        if (!AccessOk(ptr, len)) return false;
        cpu.Stac();
        return true;
    }

    /// <summary>user_access_end(): CLAC.</summary>
    public void UserAccessEnd() => cpu.Clac();

    /// <summary>
    /// unsafe_get_user(x, ptr, label) for size 1, 2, 4 or 8, inside a user_access_begin block: no range check (the
    /// block's access_ok did it). 0, or −EFAULT where the kernel jumps to the error label; on a fault the kernel leaves
    /// x undefined (an asm-goto output), KernelSim sets 0. Outside a block the access is an SMAP violation: KernelSim
    /// takes the fixup (−EFAULT) where 5.12+ (≈) kernels oops (listed as not modelled beside C15).
    /// </summary>
    public int UnsafeGetUser(UserPtr ptr, int size, out ulong value)
    {
        value = 0;
        return LoadUser(ptr, size, out value);
    }

    /// <summary>
    /// unsafe_put_user(x, ptr, label) for size 1, 2, 4 or 8, inside a user_access_begin block: 0, or −EFAULT (the
    /// error label) with nothing stored.
    /// </summary>
    public int UnsafePutUser(ulong value, UserPtr ptr, int size)
    {
        return StoreUser(value, ptr, size);
    }

    /// <summary>The mov of __get_user_N under STAC: size 1, 2, 4 or 8; a fault takes the GetUser fixup (−EFAULT, value 0).</summary>
    private int LoadUser(UserPtr ptr, int size, out ulong value)
    {
        value = 0;
        if (size is not (1 or 2 or 4 or 8)) return -Errno.EINVAL;
        var l = LoadLimit(Space.User, ptr.Value, (ulong)size, out var t);
        if (l < (ulong)size)
        {
            cpu.KernelTrap(t, ExSite.GetUser);
            return -Errno.EFAULT;
        }
        Span<byte> buf = stackalloc byte[8];
        buf.Clear();
        cpu.ReadOut(Space.User, ptr.Value, buf[..size]);
        value = BitConverter.ToUInt64(buf);
        return 0;
    }

    /// <summary>The mov of __put_user_N under STAC: a fault takes the PutUser fixup (−EFAULT, nothing stored).</summary>
    private int StoreUser(ulong value, UserPtr ptr, int size)
    {
        if (size is not (1 or 2 or 4 or 8)) return -Errno.EINVAL;
        var l = StoreLimit(Space.User, ptr.Value, (ulong)size, out var t);
        if (l < (ulong)size)
        {
            cpu.KernelTrap(t, ExSite.PutUser);
            return -Errno.EFAULT;
        }
        Span<byte> buf = stackalloc byte[8];
        BitConverter.TryWriteBytes(buf, value);
        cpu.WriteIn(Space.User, ptr.Value, buf[..size]);
        return 0;
    }
}
