using KernelSim.Lib;

namespace KernelSim.Fs;

/// <summary>
/// An open ramfs file: ramfs_file_operations (fs/ramfs/file-mmu.c) — read_iter = generic_file_read_iter,
/// write_iter = generic_file_write_iter, fsync = noop_fsync, llseek = generic_file_llseek.
/// </summary>
public sealed class RamFsFile : KFile
{
    internal RamFsFile(Inode inode, int flags, bool nowait) : base(inode, flags)
    {
        if (nowait) Mode |= FMODE_NOWAIT;
        Filemap = inode.Sb.Machine.Vfs.Filemap;
    }

    /// <summary>The machine's buffered I/O paths (looked up once per open file, not per read).</summary>
    private Filemap Filemap { get; }

    /// <summary>generic_file_read_iter (mm/filemap.c).</summary>
    public override long ReadIter(Kiocb iocb, IovIter to) => Filemap.GenericFileReadIter(iocb, to);

    /// <summary>generic_file_write_iter (mm/filemap.c).</summary>
    public override long WriteIter(Kiocb iocb, IovIter from) => Filemap.GenericFileWriteIter(iocb, from);

    /// <summary>noop_fsync (fs/libfs.c): 0.</summary>
    public override int Fsync(long start, long end, bool datasync) => 0;
}
