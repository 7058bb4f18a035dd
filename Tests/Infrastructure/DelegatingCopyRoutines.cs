using KernelSim.Arch.X86;
using KernelSim.Mm;

namespace KernelSim.Tests.Infrastructure;

/// <summary>An <see cref="ICopyRoutines"/> that passes every call to the real routines; a defect double overrides what it breaks.</summary>
public abstract class DelegatingCopyRoutines(ICopyRoutines inner) : ICopyRoutines
{
    /// <summary>The routines this double wraps.</summary>
    protected ICopyRoutines Inner { get; } = inner;

    public virtual void Memcpy(KernelPtr dst, KernelPtr src, ulong len) => Inner.Memcpy(dst, src, len);
    public virtual void CopyPage(KernelPtr to, KernelPtr from) => Inner.CopyPage(to, from);
    public virtual void MemcpyFlushcache(KernelPtr dst, KernelPtr src, ulong len) => Inner.MemcpyFlushcache(dst, src, len);
    public virtual void Memset(KernelPtr dst, byte value, ulong len) => Inner.Memset(dst, value, len);
    public virtual long MemcpyMcsafe(KernelPtr dst, KernelPtr src, ulong len) => Inner.MemcpyMcsafe(dst, src, len);
    public virtual ulong CopyMcToKernel(KernelPtr dst, KernelPtr src, ulong len) => Inner.CopyMcToKernel(dst, src, len);
    public virtual ulong CopyMcToUser(UserPtr dst, KernelPtr src, ulong len) => Inner.CopyMcToUser(dst, src, len);
    public virtual ulong RawCopyToUser(UserPtr to, KernelPtr from, ulong n) => Inner.RawCopyToUser(to, from, n);
    public virtual ulong RawCopyFromUser(KernelPtr to, UserPtr from, ulong n) => Inner.RawCopyFromUser(to, from, n);
    public virtual ulong CopyToUser(UserPtr to, KernelPtr from, ulong n) => Inner.CopyToUser(to, from, n);
    public virtual ulong CopyFromUser(KernelPtr to, UserPtr from, ulong n) => Inner.CopyFromUser(to, from, n);
    public virtual ulong CopyFromUserInatomic(KernelPtr to, UserPtr from, ulong n) => Inner.CopyFromUserInatomic(to, from, n);
    public virtual ulong CopyFromUserInatomicNocache(KernelPtr dst, UserPtr src, ulong len) => Inner.CopyFromUserInatomicNocache(dst, src, len);
    public virtual ulong CopyFromUserFlushcache(KernelPtr dst, UserPtr src, ulong len) => Inner.CopyFromUserFlushcache(dst, src, len);
    public virtual ulong ClearUser(UserPtr to, ulong n) => Inner.ClearUser(to, n);
    public virtual int GetUser(UserPtr ptr, int size, out ulong value) => Inner.GetUser(ptr, size, out value);
    public virtual int PutUser(ulong value, UserPtr ptr, int size) => Inner.PutUser(value, ptr, size);
    public virtual long CopyInUser(UserPtr to, UserPtr from, ulong n) => Inner.CopyInUser(to, from, n);
    public virtual bool UserAccessBegin(UserPtr ptr, ulong len) => Inner.UserAccessBegin(ptr, len);
    public virtual void UserAccessEnd() => Inner.UserAccessEnd();
    public virtual int UnsafeGetUser(UserPtr ptr, int size, out ulong value) => Inner.UnsafeGetUser(ptr, size, out value);
    public virtual int UnsafePutUser(ulong value, UserPtr ptr, int size) => Inner.UnsafePutUser(value, ptr, size);
}
