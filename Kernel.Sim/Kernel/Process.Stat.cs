using System.Buffers.Binary;
using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Uapi.Stat;

namespace KernelSim.Kernel;

public sealed partial class Process
{
    /// <summary>
    /// fstat(2) (fs/stat.c newfstat: vfs_fstat → vfs_getattr → cp_new_stat): the 144-byte x86-64 struct stat at
    /// <paramref name="statbuf"/>. 0, −EBADF or −EFAULT.
    /// </summary>
    public long Fstat(int fd, UserPtr statbuf) => Machine.Syscall(this, "sys_newfstat", () =>
    {
        var f = FileAt(fd);
        if (f == null) return -Errno.EBADF;
        var st = new Kstat();
        var r = VfsGetattr(f.Inode, st, STATX_BASIC_STATS, 0);
        return r < 0 ? r : CpNewStat(st, statbuf);
    });

    /// <summary>stat(2) (newstat → vfs_fstatat(AT_FDCWD, path, 0)): as <see cref="Newfstatat"/>.</summary>
    public long Stat(string path, UserPtr statbuf) => Machine.Syscall(this, "sys_newstat", () => DoFstatat(AT_FDCWD, path, statbuf, 0));

    /// <summary>lstat(2) (newlstat → vfs_fstatat with AT_SYMLINK_NOFOLLOW): a final symbolic link is reported, not followed.</summary>
    public long Lstat(string path, UserPtr statbuf) => Machine.Syscall(this, "sys_newlstat", () => DoFstatat(AT_FDCWD, path, statbuf, AT_SYMLINK_NOFOLLOW));

    /// <summary>
    /// newfstatat(2) (vfs_fstatat → vfs_statx with STATX_BASIC_STATS, then cp_new_stat): −EINVAL for unknown flags,
    /// −ENOENT, −EBADF, −EFAULT. Paths are absolute, relative to "/" (the cwd) with AT_FDCWD, or empty with
    /// AT_EMPTY_PATH (the file at <paramref name="dirfd"/>).
    /// </summary>
    public long Newfstatat(int dirfd, string path, UserPtr statbuf, int flags) => Machine.Syscall(this, "sys_newfstatat", () => DoFstatat(dirfd, path, statbuf, flags));

    /// <summary>
    /// statx(2) (fs/stat.c do_statx): −EINVAL when <paramref name="mask"/> has STATX__RESERVED or both AT_STATX_SYNC
    /// bits are set, or <paramref name="flags"/> has an unknown bit (vfs_statx); then the lookup, vfs_getattr (the VFS
    /// attributes — STATX_ATTR_DAX for an S_DAX inode on 5.8+ —, then the filesystem's -&gt;getattr), on 5.8+ the
    /// mount id and STATX_ATTR_MOUNT_ROOT, and cp_statx: the 256-byte struct statx at <paramref name="buffer"/>.
    /// stx_mask is what the filesystem filled (it may hold bits not asked for, and lack some asked for).
    /// </summary>
    public long Statx(int dirfd, string path, int flags, uint mask, UserPtr buffer) => Machine.Syscall(this, "sys_statx", () =>
    {
        if ((mask & STATX__RESERVED) != 0) return -Errno.EINVAL;
        if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return -Errno.EINVAL;
        var st = new Kstat();
        var r = VfsStatx(dirfd, path, flags, st, mask);
        return r < 0 ? r : CpStatx(st, buffer);
    });

    private long DoFstatat(int dirfd, string path, UserPtr statbuf, int flags)
    {
        var st = new Kstat();
        var r = VfsStatx(dirfd, path, flags | AT_NO_AUTOMOUNT, st, STATX_BASIC_STATS);
        return r < 0 ? r : CpNewStat(st, statbuf);
    }

    /// <summary>
    /// vfs_statx (fs/stat.c): the flag check, the path walk (user_path_at with LOOKUP_FOLLOW unless
    /// AT_SYMLINK_NOFOLLOW, LOOKUP_EMPTY with AT_EMPTY_PATH), vfs_getattr, and on 5.8+ stx_mnt_id and
    /// STATX_ATTR_MOUNT_ROOT. A path relative to a directory descriptor is not modelled (−ENOSYS).
    /// </summary>
    private int VfsStatx(int dirfd, string path, int flags, Kstat st, uint mask)
    {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0) return -Errno.EINVAL;
        Inode? inode;
        bool mountRoot;
        if (path.Length == 0)
        {
            if ((flags & AT_EMPTY_PATH) == 0) return -Errno.ENOENT;
            if (dirfd == AT_FDCWD)
            {
                path = "/";
            }
            else
            {
                var f = FileAt(dirfd);
                if (f == null) return -Errno.EBADF;
                inode = f.Inode;
                mountRoot = ReferenceEquals(inode.Sb.Lookup(""), inode);
                return GetattrAndMount(inode, mountRoot, st, mask, flags);
            }
        }
        if (path[0] != '/')
        {
            if (dirfd != AT_FDCWD) return FileAt(dirfd) == null ? -Errno.EBADF : -Errno.ENOSYS;
            path = "/" + path; // the cwd of every simulated process is "/"
        }
        var r = Machine.Vfs.Resolve(path, out var fs, out var rest);
        if (r < 0) return r;
        inode = fs!.Lookup(rest, (flags & AT_SYMLINK_NOFOLLOW) == 0);
        if (inode == null) return -Errno.ENOENT;
        mountRoot = rest.Length == 0;
        return GetattrAndMount(inode, mountRoot, st, mask, flags);
    }

    private int GetattrAndMount(Inode inode, bool mountRoot, Kstat st, uint mask, int flags)
    {
        var r = VfsGetattr(inode, st, mask, flags);
        if (r < 0 || !Machine.Profile.StatxMountId) return r;
        st.MntId = (ulong)inode.Sb.MntId;
        st.ResultMask |= STATX_MNT_ID;
        if (mountRoot) st.Attributes |= STATX_ATTR_MOUNT_ROOT;
        st.AttributesMask |= STATX_ATTR_MOUNT_ROOT;
        return 0;
    }

    /// <summary>
    /// vfs_getattr_nosec (fs/stat.c): STATX_BASIC_STATS in the result mask; IS_DAX → STATX_ATTR_DAX (5.8+, with the
    /// release's value); on 5.13+ STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX in the attributes mask; then -&gt;getattr. On
    /// 6.12 the mask also has STATX_ATTR_VERITY for every filesystem, as observed on Debian's 6.12.118 (DX14).
    /// </summary>
    private int VfsGetattr(Inode inode, Kstat st, uint mask, int flags)
    {
        var profile = Machine.Profile;
        st.ResultMask |= STATX_BASIC_STATS;
        if (inode.IsDax && profile.StatxAttrDax) st.Attributes |= profile.StatxAttrDaxValue;
        if (profile.StatxAttrMaskVfsBits) st.AttributesMask |= STATX_ATTR_AUTOMOUNT | profile.StatxAttrDaxValue;
        if (profile.StatxAttrMaskVerity) st.AttributesMask |= STATX_ATTR_VERITY;
        return inode.Sb.Getattr(inode, st, mask, flags & AT_STATX_SYNC_TYPE);
    }

    /// <summary>cp_new_stat (fs/stat.c): struct stat as x86-64 lays it out (144 bytes), st_dev/st_rdev new_encode_dev'd.</summary>
    private long CpNewStat(Kstat st, UserPtr statbuf)
    {
        Span<byte> b = stackalloc byte[StatSize];
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, NewEncodeDev(st.Dev.Major, st.Dev.Minor));
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], st.Ino);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], st.Nlink);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], (uint)st.Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b[28..], st.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], st.Gid);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], NewEncodeDev(st.Rdev.Major, st.Rdev.Minor));
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], st.Size);
        BinaryPrimitives.WriteInt64LittleEndian(b[56..], st.Blksize);
        BinaryPrimitives.WriteInt64LittleEndian(b[64..], st.Blocks);
        WriteTimespec(b[72..], st.Atime);
        WriteTimespec(b[88..], st.Mtime);
        WriteTimespec(b[104..], st.Ctime);
        return CopyToUser(statbuf, b) < 0 ? -Errno.EFAULT : 0;
    }

    /// <summary>
    /// cp_statx (fs/stat.c): struct statx (256 bytes) — stx_mask, stx_blksize, stx_attributes, stx_nlink, stx_uid,
    /// stx_gid, stx_mode, stx_ino, stx_size, stx_blocks, stx_attributes_mask, the four statx_timestamps (atime,
    /// btime, ctime, mtime), rdev and dev major/minor, stx_mnt_id; everything else zero.
    /// </summary>
    private long CpStatx(Kstat st, UserPtr buffer)
    {
        Span<byte> b = stackalloc byte[StatxSize];
        b.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b, st.ResultMask);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], st.Blksize);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], st.Attributes);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], st.Nlink);
        BinaryPrimitives.WriteUInt32LittleEndian(b[20..], st.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], st.Gid);
        BinaryPrimitives.WriteUInt16LittleEndian(b[28..], (ushort)st.Mode);
        BinaryPrimitives.WriteUInt64LittleEndian(b[32..], st.Ino);
        BinaryPrimitives.WriteInt64LittleEndian(b[40..], st.Size);
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], st.Blocks);
        BinaryPrimitives.WriteUInt64LittleEndian(b[56..], st.AttributesMask);
        WriteStatxTimestamp(b[64..], st.Atime);
        WriteStatxTimestamp(b[80..], st.Btime);
        WriteStatxTimestamp(b[96..], st.Ctime);
        WriteStatxTimestamp(b[112..], st.Mtime);
        BinaryPrimitives.WriteUInt32LittleEndian(b[128..], st.Rdev.Major);
        BinaryPrimitives.WriteUInt32LittleEndian(b[132..], st.Rdev.Minor);
        BinaryPrimitives.WriteUInt32LittleEndian(b[136..], st.Dev.Major);
        BinaryPrimitives.WriteUInt32LittleEndian(b[140..], st.Dev.Minor);
        BinaryPrimitives.WriteUInt64LittleEndian(b[144..], st.MntId);
        return CopyToUser(buffer, b) < 0 ? -Errno.EFAULT : 0;
    }

    private static void WriteTimespec(Span<byte> b, long ns)
    {
        BinaryPrimitives.WriteInt64LittleEndian(b, ns / 1_000_000_000);
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], ns % 1_000_000_000);
    }

    /// <summary>struct statx_timestamp: tv_sec (s64), tv_nsec (u32), __reserved (s32).</summary>
    private static void WriteStatxTimestamp(Span<byte> b, long ns)
    {
        BinaryPrimitives.WriteInt64LittleEndian(b, ns / 1_000_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], (uint)(ns % 1_000_000_000));
    }
}
