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
    /// inode "memfd:<paramref name="name"/>" of mode 0777 opened O_RDWR: tmpfs (shmem_file_setup), or with MFD_HUGETLB
    /// hugetlbfs (hugetlb_file_setup with the page size log in bits 26–31: −ENODEV for a size without an hstate; SH11).
    /// MFD_ALLOW_SEALING clears F_SEAL_SEAL; MFD_NOEXEC_SEAL also clears the x bits and sets F_SEAL_EXEC (SH6). Returns
    /// the fd or −errno.
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
        // S_IFREG | S_IRWXUGO; MFD_NOEXEC_SEAL's "inode->i_mode &= ~0111" is applied up front.
        var mode = Fcntl.S_IFREG | ((flags & Memfd.MFD_NOEXEC_SEAL) != 0 ? 0x1b6 : 0x1ff);
        var err = (flags & Memfd.MFD_HUGETLB) != 0
            ? HugetlbFs.Internal(Machine).FileSetup(Memfd.MFD_NAME_PREFIX + name, (int)((flags >> Memfd.MFD_HUGE_SHIFT) & Memfd.MFD_HUGE_MASK), mode, out var file)
            : ShmemFileSetup(Memfd.MFD_NAME_PREFIX + name, out file);
        if (err < 0) return err;
        var inode = file!.Inode;
        if ((flags & Memfd.MFD_NOEXEC_SEAL) != 0)
        {
            SetSeals(inode, (MemfdFileSeals(inode)!.Value & ~Memfd.F_SEAL_SEAL) | Memfd.F_SEAL_EXEC);
        }
        else if ((flags & Memfd.MFD_ALLOW_SEALING) != 0)
        {
            SetSeals(inode, MemfdFileSeals(inode)!.Value & ~Memfd.F_SEAL_SEAL);
        }
        InstallFd(fd, file);
        return fd;

        int ShmemFileSetup(string dname, out KFile? f)
        {
            var shm = Machine.Services.GetRequiredService<ShmMount>().Fs;
            var i = shm.NewInode(mode, dname); // shmem_get_inode
            i.ClearNlink(); // alloc_file_pseudo: a name that was never linked ("/memfd:x (deleted)")
            f = shm.OpenInode(i, Fcntl.O_RDWR);
            return 0;
        }
    });

    /// <summary>memfd_file_seals_ptr (mm/memfd.c): the seals of a tmpfs or hugetlbfs inode; null for any other file.</summary>
    private static int? MemfdFileSeals(Inode inode) => inode switch
    {
        ShmemInode si => si.Seals,
        HugetlbInode hi => hi.Seals,
        _ => null,
    };

    private static void SetSeals(Inode inode, int seals)
    {
        if (inode is ShmemInode si) si.Seals = seals;
        else if (inode is HugetlbInode hi) hi.Seals = seals;
    }

    private void InstallFd(int fd, KFile file)
    {
        while (_fds.Count <= fd) _fds.Add(null);
        _fds[fd] = file;
    }

    /// <summary>
    /// fcntl(2) (named after fs/fcntl.c do_fcntl: Fcntl is the uapi constants class), the commands modelled: F_GETFL (f_flags), F_ADD_SEALS and F_GET_SEALS
    /// (memfd_fcntl: −EINVAL on a file that is neither tmpfs nor hugetlbfs). −EBADF for a bad fd; any other command → −EINVAL.
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
                return MemfdFileSeals(f.Inode) ?? -Errno.EINVAL;
            default:
                return -Errno.EINVAL;
        }
    });

    /// <summary>
    /// memfd_add_seals (mm/memfd.c): not open for writing → −EPERM; unknown seals → −EINVAL; not tmpfs or hugetlbfs → −EINVAL;
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
        var inode = f.Inode;
        if (MemfdFileSeals(inode) is not { } cur) return -Errno.EINVAL;
        if ((cur & Memfd.F_SEAL_SEAL) != 0) return -Errno.EPERM;
        if ((seals & Memfd.F_SEAL_WRITE) != 0 && (cur & Memfd.F_SEAL_WRITE) == 0 && HasSharedMaywriteMapping(inode)) return -Errno.EBUSY;
        if ((seals & Memfd.F_SEAL_EXEC) != 0 && (inode.Mode & 0x49) != 0)
            seals |= Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW | Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE;
        SetSeals(inode, cur | seals);
        return 0;
    }

    /// <summary>i_mmap_writable &gt; 0: some process maps the inode MAP_SHARED through a descriptor open for writing (VM_MAYWRITE).</summary>
    private bool HasSharedMaywriteMapping(Inode inode)
    {
        foreach (var p in Machine.Scheduler.Processes)
            foreach (var v in p.Mm.Vmas)
                if (v.Shared && v.File is KFile vf && vf.Inode == inode && (vf.Mode & KFile.FMODE_WRITE) != 0) return true;
        return false;
    }
}
