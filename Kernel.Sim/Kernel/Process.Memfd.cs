using System.Text;
using KernelSim.Fs;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// memfd_create(2) (mm/memfd.c): flag checks (unknown flags → −EINVAL; the huge page size bits only with
    /// MFD_HUGETLB; 6.3+: MFD_EXEC with MFD_NOEXEC_SEAL → −EINVAL, neither → MFD_EXEC as vm.memfd_noexec = 0 gives),
    /// a name of at most 249 bytes (MFD_NAME_MAX_LEN, else −EINVAL), the lowest free descriptor, then an unlinked
    /// tmpfs inode "memfd:<paramref name="name"/>" of mode 0777 opened O_RDWR (shmem_file_setup). MFD_ALLOW_SEALING
    /// clears F_SEAL_SEAL; MFD_NOEXEC_SEAL also clears the x bits and sets F_SEAL_EXEC (SH6). Returns the fd or −errno.
    /// </summary>
    public long MemfdCreate(string name, uint flags) => Machine.Syscall(this, "sys_memfd_create", () =>
    {
        var profile = Machine.Profile;
        var all = Memfd.MFD_CLOEXEC | Memfd.MFD_ALLOW_SEALING | Memfd.MFD_HUGETLB;
        if (profile.MemfdExecFlags) all |= Memfd.MFD_NOEXEC_SEAL | Memfd.MFD_EXEC;
        if ((flags & Memfd.MFD_HUGETLB) == 0)
        {
            if ((flags & ~all) != 0) return -Errno.EINVAL;
        }
        else if ((flags & ~(all | (Memfd.MFD_HUGE_MASK << Memfd.MFD_HUGE_SHIFT))) != 0)
        {
            return -Errno.EINVAL;
        }
        if (profile.MemfdExecFlags)
        {
            if ((flags & Memfd.MFD_EXEC) != 0 && (flags & Memfd.MFD_NOEXEC_SEAL) != 0) return -Errno.EINVAL;
            if ((flags & (Memfd.MFD_EXEC | Memfd.MFD_NOEXEC_SEAL)) == 0) flags |= Memfd.MFD_EXEC;
        }
        // strnlen_user(uname, MFD_NAME_MAX_LEN + 1): the length with its NUL may not exceed 250.
        if (Encoding.UTF8.GetByteCount(name) > Memfd.MFD_NAME_MAX_LEN) return -Errno.EINVAL;
        var fd = GetUnusedFd();
        if (fd < 0) return fd;
        var err = (flags & Memfd.MFD_HUGETLB) != 0
            ? HugetlbFileSetup(name, (int)((flags >> Memfd.MFD_HUGE_SHIFT) & Memfd.MFD_HUGE_MASK), out var file)
            : ShmemFileSetup(Memfd.MFD_NAME_PREFIX + name, out file);
        if (err < 0) return err;
        if (file!.Inode is not ShmemInode inode)
        {
            InstallFd(fd, file); // hugetlbfs: its seals are not modelled (docs/tmpfs.md "Not modelled")
            return fd;
        }
        if ((flags & Memfd.MFD_NOEXEC_SEAL) != 0)
        {
            inode.Seals = (inode.Seals & ~Memfd.F_SEAL_SEAL) | Memfd.F_SEAL_EXEC;
        }
        else if ((flags & Memfd.MFD_ALLOW_SEALING) != 0)
        {
            inode.Seals &= ~Memfd.F_SEAL_SEAL;
        }
        InstallFd(fd, file);
        return fd;

        int ShmemFileSetup(string dname, out KFile? f)
        {
            var shm = Machine.Services.GetRequiredService<ShmMount>().Fs;
            // shmem_get_inode(S_IFREG | S_IRWXUGO); MFD_NOEXEC_SEAL's "i_mode &= ~0111" is applied up front.
            var mode = Fcntl.S_IFREG | ((flags & Memfd.MFD_NOEXEC_SEAL) != 0 ? 0x1b6 : 0x1ff);
            var i = shm.NewInode(mode, dname);
            i.ClearNlink(); // alloc_file_pseudo: a name that was never linked ("/memfd:x (deleted)")
            f = shm.OpenInode(i, Fcntl.O_RDWR);
            return 0;
        }
    });

    /// <summary>
    /// hugetlb_file_setup (fs/hugetlbfs/inode.c) for memfd_create(MFD_HUGETLB): a huge page size other than the one
    /// hstate (2 MiB: log 21, or 0 for the default) → −ENODEV (get_hstate_idx); otherwise an unlinked "memfd:name" file
    /// on the internal hugetlbfs mount, opened O_RDWR (<see cref="HugetlbFs.FileSetup"/>).
    /// </summary>
    private int HugetlbFileSetup(string name, int pageSizeLog, out KFile? file)
    {
        file = null;
        if (pageSizeLog != 0 && pageSizeLog != KernelSim.Mm.Hugetlb.HPAGE_SHIFT) return -Errno.ENODEV;
        file = HugetlbFs.Internal(Machine).FileSetup(name);
        return 0;
    }

    private void InstallFd(int fd, KFile file)
    {
        while (_fds.Count <= fd) _fds.Add(null);
        _fds[fd] = file;
    }

    /// <summary>
    /// fcntl(2) (named after fs/fcntl.c do_fcntl: Fcntl is the uapi constants class), the commands modelled: F_GETFL (f_flags), F_ADD_SEALS and F_GET_SEALS
    /// (memfd_fcntl: −EINVAL on a file that is not tmpfs). −EBADF for a bad fd; any other command → −EINVAL.
    /// </summary>
    public long DoFcntl(int fd, int cmd, ulong arg = 0) => Machine.Syscall(this, "sys_fcntl", () =>
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        switch (cmd)
        {
            case Memfd.F_GETFL:
                return f.Flags;
            case Memfd.F_ADD_SEALS:
                if (arg > uint.MaxValue) return -Errno.EINVAL; // "disallow upper 32bit"
                return MemfdAddSeals(f, (int)(uint)arg);
            case Memfd.F_GET_SEALS:
                return f.Inode is ShmemInode si ? si.Seals : -Errno.EINVAL;
            default:
                return -Errno.EINVAL;
        }
    });

    /// <summary>
    /// memfd_add_seals (mm/memfd.c): not open for writing → −EPERM; unknown seals → −EINVAL; not tmpfs → −EINVAL;
    /// F_SEAL_SEAL already set → −EPERM; a new F_SEAL_WRITE while a shared mapping may write (mapping_deny_writable)
    /// → −EBUSY; 6.3+: F_SEAL_EXEC on a file with x bits adds SHRINK|GROW|WRITE|FUTURE_WRITE (SH7).
    /// </summary>
    private long MemfdAddSeals(KFile f, int seals)
    {
        var profile = Machine.Profile;
        var allSeals = Memfd.F_SEAL_SEAL | Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW | Memfd.F_SEAL_WRITE;
        if (profile.SealFutureWrite) allSeals |= Memfd.F_SEAL_FUTURE_WRITE;
        if (profile.MemfdExecFlags) allSeals |= Memfd.F_SEAL_EXEC;
        if ((f.Mode & KFile.FMODE_WRITE) == 0) return -Errno.EPERM;
        if ((seals & ~allSeals) != 0) return -Errno.EINVAL;
        if (f.Inode is not ShmemInode inode) return -Errno.EINVAL;
        if ((inode.Seals & Memfd.F_SEAL_SEAL) != 0) return -Errno.EPERM;
        if ((seals & Memfd.F_SEAL_WRITE) != 0 && (inode.Seals & Memfd.F_SEAL_WRITE) == 0 && HasSharedMaywriteMapping(inode)) return -Errno.EBUSY;
        if ((seals & Memfd.F_SEAL_EXEC) != 0 && (inode.Mode & 0x49) != 0)
            seals |= Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW | Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE;
        inode.Seals |= seals;
        return 0;
    }

    /// <summary>i_mmap_writable &gt; 0: some process maps the inode MAP_SHARED through a descriptor open for writing (VM_MAYWRITE).</summary>
    private bool HasSharedMaywriteMapping(ShmemInode inode)
    {
        foreach (var p in Machine.Scheduler.Processes)
            foreach (var v in p.Mm.Vmas)
                if (v.Shared && v.File is ShmemFile sf && sf.Inode == inode && (sf.Mode & KFile.FMODE_WRITE) != 0) return true;
        return false;
    }
}
