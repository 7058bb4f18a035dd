using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>One directory entry as getdents64 returns it (struct linux_dirent64 without d_off/d_reclen).</summary>
/// <param name="Ino">d_ino.</param>
/// <param name="Type">d_type (DT_DIR 4, DT_REG 8, DT_LNK 10, DT_BLK 6, DT_CHR 2).</param>
/// <param name="Name">d_name.</param>
public readonly record struct DirEntry(ulong Ino, byte Type, string Name)
{
    /// <summary>The d_type of a mode's S_IFMT bits (fs_umode_to_dtype): (mode &gt;&gt; 12) &amp; 15.</summary>
    public static byte DtType(int mode) => (byte)(mode >> 12 & 15);
}

/// <summary>
/// struct file with its struct file_operations (include/linux/fs.h): the open flags (f_flags), the FMODE_*
/// bits (f_mode), the file position (f_pos) and one virtual method per file operation. Filesystems and
/// device drivers subclass it and override the operations they implement; the defaults are the VFS's
/// answer for a missing operation.
/// </summary>
public abstract class KFile
{
    /// <summary>FMODE_READ.</summary>
    public const int FMODE_READ = 0x1;
    /// <summary>FMODE_WRITE.</summary>
    public const int FMODE_WRITE = 0x2;
    /// <summary>FMODE_LSEEK: the file is seekable.</summary>
    public const int FMODE_LSEEK = 0x4;
    /// <summary>FMODE_PREAD: pread/preadv allowed.</summary>
    public const int FMODE_PREAD = 0x8;
    /// <summary>FMODE_PWRITE: pwrite/pwritev allowed.</summary>
    public const int FMODE_PWRITE = 0x10;
    /// <summary>FMODE_CAN_READ: f_op has ->read or ->read_iter.</summary>
    public const int FMODE_CAN_READ = 0x20000;
    /// <summary>FMODE_CAN_WRITE: f_op has ->write or ->write_iter.</summary>
    public const int FMODE_CAN_WRITE = 0x40000;
    /// <summary>FMODE_NOWAIT: the file supports RWF_NOWAIT / IOCB_NOWAIT.</summary>
    public const int FMODE_NOWAIT = 0x8000000;

    /// <summary>
    /// do_dentry_open: f_flags from open(2) (O_LARGEFILE forced on 64-bit), f_mode from the access mode plus
    /// FMODE_LSEEK|FMODE_PREAD|FMODE_PWRITE and FMODE_CAN_READ/WRITE when the operations exist.
    /// </summary>
    protected KFile(Inode inode, int flags) => Init(inode, flags);

    /// <summary>
    /// do_dentry_open on the object of a file whose last reference is gone (-&gt;release ran), as a new struct file
    /// from the same slab: every field as the constructor sets it (position 0, one reference, no path yet). Only for a
    /// filesystem that keeps nothing of the old open (kernfs text attributes).
    /// </summary>
    protected void Reopen(Inode inode, int flags)
    {
        Init(inode, flags);
        Pos = 0;
        Count = 1;
        Path = null;
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(Inode))]
    private void Init(Inode inode, int flags)
    {
        Inode = inode;
        Flags = flags | Fcntl.O_LARGEFILE;
        var acc = flags & Fcntl.O_ACCMODE;
        var mode = FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
        if (acc is Fcntl.O_RDONLY or Fcntl.O_RDWR) mode |= FMODE_READ;
        if (acc is Fcntl.O_WRONLY or Fcntl.O_RDWR) mode |= FMODE_WRITE;
        if ((mode & FMODE_READ) != 0 && HasReadIter) mode |= FMODE_CAN_READ;
        if ((mode & FMODE_WRITE) != 0 && HasWriteIter) mode |= FMODE_CAN_WRITE;
        Mode = mode;
        WbErrSeen = inode.Mapping?.SampleWbErr() ?? 0;
        SbErrSince = inode.Sb.WbErrSample();
    }

    /// <summary>f_wb_err: the mapping's write-back error cursor as this file last saw it (sampled at open).</summary>
    internal uint WbErrSeen { get; set; }
    /// <summary>f_sb_err: the superblock writeback-error sequence this file has seen (syncfs, 5.8+).</summary>
    internal int SbErrSince;

    /// <summary>f_inode.</summary>
    public Inode Inode { get; private set; }

    /// <summary>f_mapping (the inode's page cache, if any).</summary>
    public AddressSpace? Mapping => Inode.Mapping;

    /// <summary>f_flags (O_*).</summary>
    public int Flags { get; set; }

    /// <summary>f_mode (FMODE_*).</summary>
    public int Mode { get; protected set; }

    /// <summary>f_pos: the position used by read/write/lseek.</summary>
    public long Pos { get; set; }

    /// <summary>f_count: descriptors referring to this open file (fork shares it); -&gt;release runs when the last goes.</summary>
    public int Count { get; internal set; } = 1;

    /// <summary>f_path as d_path prints it (the path open(2) was given, for /proc/&lt;pid&gt;/maps); null if opened otherwise.</summary>
    public string? Path { get; internal set; }

    /// <summary>Whether this file type implements ->read_iter (sets FMODE_CAN_READ).</summary>
    protected virtual bool HasReadIter => true;

    /// <summary>Whether this file type implements ->write_iter (sets FMODE_CAN_WRITE).</summary>
    protected virtual bool HasWriteIter => true;

    /// <summary>->read_iter(kiocb, iter): bytes read (advancing kiocb.Pos) or −errno. Default: −EINVAL.</summary>
    public virtual long ReadIter(Kiocb iocb, IovIter to) => -Errno.EINVAL;

    /// <summary>->write_iter(kiocb, iter): bytes written (advancing kiocb.Pos) or −errno. Default: −EINVAL.</summary>
    public virtual long WriteIter(Kiocb iocb, IovIter from) => -Errno.EINVAL;

    /// <summary>->fsync(file, start, end, datasync): 0 or −errno. Default: −EINVAL (no ->fsync).</summary>
    public virtual int Fsync(long start, long end, bool datasync) => -Errno.EINVAL;

    /// <summary>
    /// ->llseek: default generic_file_llseek (fs/read_write.c generic_file_llseek_size with s_maxbytes and
    /// i_size): the new position or −EINVAL / −ENXIO.
    /// </summary>
    public virtual long Llseek(long offset, int whence) => GenericFileLlseekSize(offset, whence, Inode.Sb.MaxBytes, Inode.Size);

    /// <summary>
    /// generic_file_llseek_size (fs/read_write.c): SEEK_SET/CUR/END/DATA/HOLE against <paramref name="eof"/>, then
    /// vfs_setpos with <paramref name="maxsize"/>: the new position or −EINVAL / −ENXIO.
    /// </summary>
    protected long GenericFileLlseekSize(long offset, int whence, long maxsize, long eof)
    {
        switch (whence)
        {
            case Fcntl.SEEK_END:
                offset = unchecked(offset + eof);
                break;
            case Fcntl.SEEK_CUR:
                if (offset == 0) return Pos;
                offset = unchecked(Pos + offset);
                break;
            case Fcntl.SEEK_DATA:
                if ((ulong)offset >= (ulong)eof) return -Errno.ENXIO;
                break;
            case Fcntl.SEEK_HOLE:
                if ((ulong)offset >= (ulong)eof) return -Errno.ENXIO;
                offset = eof;
                break;
        }
        // vfs_setpos
        if (offset < 0) return -Errno.EINVAL;
        if (offset > maxsize) return -Errno.EINVAL;
        Pos = offset;
        return offset;
    }

    /// <summary>->mmap(file, vma): 0 or −errno. Default: −ENODEV (no ->mmap).</summary>
    public virtual int Mmap(Vma vma) => -Errno.ENODEV;

    /// <summary>
    /// f_op-&gt;get_unmapped_area(file, addr, len, pgoff, flags): where a mapping of <paramref name="len"/> bytes at file page
    /// <paramref name="pgoff"/> goes, the hint <paramref name="addr"/> included (ext4/XFS use
    /// <see cref="MmStruct.ThpGetUnmappedArea"/>); 0 (or an IS_ERR value) when nothing fits; null for a file without one
    /// (mm-&gt;get_unmapped_area, which honours a free hint).
    /// </summary>
    public virtual ulong? GetUnmappedArea(MmStruct mm, ulong addr, ulong len, ulong pgoff, int flags) => null;

    /// <summary>f_op->mmap_supported_flags: extra MAP_* bits accepted with MAP_SHARED_VALIDATE (MAP_SYNC for DAX files).</summary>
    public virtual int MmapSupportedFlags => 0;

    /// <summary>->fallocate(file, mode, offset, len) (FALLOC_FL_*): 0 or −errno. Default: −EOPNOTSUPP (no ->fallocate).</summary>
    public virtual int Fallocate(int mode, long offset, long len) => -Errno.EOPNOTSUPP;

    /// <summary>
    /// ->unlocked_ioctl(file, cmd, arg): the driver's or filesystem's answer, or −ENOTTY when it has none (vfs_ioctl).
    /// <paramref name="arg"/> is the raw third argument (usually a user pointer).
    /// </summary>
    public virtual long Ioctl(uint cmd, ulong arg) => -Errno.ENOTTY;

    /// <summary>
    /// ->iterate_shared(file, ctx) for getdents64: all entries of the directory (".", "..", then the children), or null when
    /// this file is not a directory (getdents64 then fails with −ENOTDIR). f_pos is the index of the next entry to return.
    /// </summary>
    public virtual IReadOnlyList<DirEntry>? ReadDir() => null;

    /// <summary>->release: the last reference was closed.</summary>
    public virtual void Release()
    {
    }

    /// <inheritdoc/>
    public override string ToString() => $"file {Inode} pos={Pos} flags=0x{Flags:x} mode=0x{Mode:x}";
}
