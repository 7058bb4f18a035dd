using KernelSim.Mm;

namespace KernelSim.Arch.X86;

/// <summary>
/// The CPU copy engine: the x86-64 string and user-copy routines of arch/x86/lib that the rest of the kernel calls
/// (memcpy, memset, copy_mc_to_kernel/user, raw_copy_to/from_user, copy_to/from_user, the nocache and flushcache
/// variants, clear_user, get_user, put_user). <see cref="CopyRoutines"/> implements it with the kernel's residue
/// rules; iov_iter, gup and the drivers resolve this interface, so a double sees every copy they make. Every
/// routine returns bytes NOT copied unless its doc says otherwise.
/// </summary>
public interface ICopyRoutines
{
    /// <summary>memcpy between kernel addresses: no exception-table entry, so a #MC panics and a #PF oopses.</summary>
    void Memcpy(KernelPtr dst, KernelPtr src, ulong len);

    /// <summary>copy_page (arch/x86/lib/copy_page_64.S): one 4 KiB page, no exception-table entry.</summary>
    void CopyPage(KernelPtr to, KernelPtr from);

    /// <summary>__memcpy_flushcache: non-temporal kernel copy, no fault handling.</summary>
    void MemcpyFlushcache(KernelPtr dst, KernelPtr src, ulong len);

    /// <summary>memset of kernel memory (no fault handling).</summary>
    void Memset(KernelPtr dst, byte value, ulong len);

    /// <summary>memcpy_mcsafe() as the release has it (0/−EFAULT up to 4.17, bytes remaining after).</summary>
    long MemcpyMcsafe(KernelPtr dst, KernelPtr src, ulong len);

    /// <summary>copy_mc_to_kernel (arch/x86/lib/copy_mc.c).</summary>
    ulong CopyMcToKernel(KernelPtr dst, KernelPtr src, ulong len);

    /// <summary>copy_mc_to_user (arch/x86/lib/copy_mc.c); no access_ok: the caller checks.</summary>
    ulong CopyMcToUser(UserPtr dst, KernelPtr src, ulong len);

    /// <summary>raw_copy_to_user: copy_user_generic under STAC; no access_ok.</summary>
    ulong RawCopyToUser(UserPtr to, KernelPtr from, ulong n);

    /// <summary>raw_copy_from_user: copy_user_generic under STAC; no access_ok, no zeroing.</summary>
    ulong RawCopyFromUser(KernelPtr to, UserPtr from, ulong n);

    /// <summary>copy_to_user (include/linux/uaccess.h).</summary>
    ulong CopyToUser(UserPtr to, KernelPtr from, ulong n);

    /// <summary>copy_from_user (_copy_from_user): a short copy zeroes the uncopied tail of the kernel buffer.</summary>
    ulong CopyFromUser(KernelPtr to, UserPtr from, ulong n);

    /// <summary>__copy_from_user_inatomic: raw copy with page faults disabled, no zeroing.</summary>
    ulong CopyFromUserInatomic(KernelPtr to, UserPtr from, ulong n);

    /// <summary>__copy_from_user_inatomic_nocache.</summary>
    ulong CopyFromUserInatomicNocache(KernelPtr dst, UserPtr src, ulong len);

    /// <summary>__copy_from_user_flushcache (usercopy_64.c).</summary>
    ulong CopyFromUserFlushcache(KernelPtr dst, UserPtr src, ulong len);

    /// <summary>clear_user.</summary>
    ulong ClearUser(UserPtr to, ulong n);

    /// <summary>get_user(x, ptr) for size 1, 2, 4 or 8: 0, or −EFAULT with x = 0.</summary>
    int GetUser(UserPtr ptr, int size, out ulong value);

    /// <summary>put_user(x, ptr) for size 1, 2, 4 or 8: 0 or −EFAULT.</summary>
    int PutUser(ulong value, UserPtr ptr, int size);

    /// <summary>copy_in_user (CONFIG_COMPAT, up to 5.14): bytes not copied between two user ranges, or −ENOSYS on later releases.</summary>
    long CopyInUser(UserPtr to, UserPtr from, ulong n);

    /// <summary>user_access_begin(ptr, len): access_ok + STAC; false when the range is not a user range.</summary>
    bool UserAccessBegin(UserPtr ptr, ulong len);

    /// <summary>user_access_end(): CLAC.</summary>
    void UserAccessEnd();

    /// <summary>unsafe_get_user(x, ptr, label) for size 1, 2, 4 or 8: 0, or −EFAULT for "jumped to the label".</summary>
    int UnsafeGetUser(UserPtr ptr, int size, out ulong value);

    /// <summary>unsafe_put_user(x, ptr, label) for size 1, 2, 4 or 8: 0, or −EFAULT for "jumped to the label".</summary>
    int UnsafePutUser(ulong value, UserPtr ptr, int size);
}
