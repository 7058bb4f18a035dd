using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>The inode of a kernfs node (kernfs_get_inode): mode and size from the node.</summary>
public sealed class KernfsInode : Inode
{
    internal KernfsInode(KernfsFs sb, KernfsNode node) : base(sb, node.Ino, node.Mode)
    {
        Node = node;
        Size = node is KernfsFileNode f ? f.Size : 0;
    }

    /// <summary>The node.</summary>
    public KernfsNode Node { get; }
}

/// <summary>
/// struct kernfs_open_file with kernfs_file_fops (fs/kernfs/file.c): read_iter and write_iter move the data through one
/// kernel page (the seq_file / write buffer) with copy_to_iter / copy_from_iter, so short copies and faults behave as
/// for any other file. A removed node answers −ENODEV (kernfs_get_active failed).
/// </summary>
public sealed class KernfsOpenFile : KFile
{
    internal KernfsOpenFile(KernfsInode inode, int flags, Process? opener) : base(inode, flags) => Opener = opener;

    /// <summary>
    /// kernfs_fop_open on the object of an open file that was released (<see cref="Release"/> gave it back to its
    /// filesystem): the fields as a new one has them.
    /// </summary>
    internal void Reuse(KernfsInode inode, int flags, Process? opener)
    {
        Reopen(inode, flags);
        Opener = opener;
        SeqBuffer = null;
        SeqText = null;
        Private = null;
    }

    /// <summary>The node.</summary>
    public KernfsNode Node => ((KernfsInode)Inode).Node;

    /// <summary>The process that opened it (its credentials decide what some files show).</summary>
    public Process? Opener { get; private set; }

    /// <summary>The seq_file buffer of a text attribute (the show text of the last read at position 0; null while <see cref="SeqText"/> holds it).</summary>
    public byte[]? SeqBuffer { get; set; }

    /// <summary>The seq_file buffer as text when every character is Latin-1 (one byte each; SeqBuffer is then null).</summary>
    internal string? SeqText { get; set; }

    /// <summary>of-&gt;priv: per-open state for a subclass of <see cref="KernfsFileNode"/>.</summary>
    public object? Private { get; set; }

    private KernfsFs Fs => (KernfsFs)Inode.Sb;

    /// <summary>kernfs_fop_read_iter: page-sized reads through the node into the caller's iterator.</summary>
    public override long ReadIter(Kiocb iocb, IovIter to)
    {
        if (Node is not KernfsFileNode f) return -Errno.EISDIR;
        if (!f.Active) return -Errno.ENODEV;
        var scratch = Fs.Scratch;
        // Sized to the first (largest) chunk: a 1 KiB attribute read zeroes 1 KiB of stack, not a page.
        Span<byte> tmp = stackalloc byte[(int)Math.Min(to.Count, PageDefs.PAGE_SIZE)];
        long done = 0;
        while (to.Count > 0)
        {
            var want = (int)Math.Min(to.Count, PageDefs.PAGE_SIZE);
            var n = f.Read(this, iocb.Pos, tmp[..want]);
            if (n < 0) return done > 0 ? done : n;
            if (n == 0) break;
            Fs.Machine.Phys.PokeBytes(Fs.Machine.KernelMap.Pa(scratch)!.Value, tmp[..(int)n]);
            var copied = (long)Fs.Machine.IovIter.CopyToIter(scratch, (ulong)n, to);
            iocb.Pos += copied;
            done += copied;
            if (copied < n) return done > 0 ? done : -Errno.EFAULT;
            if (n < want) break;
        }
        return done;
    }

    /// <summary>kernfs_fop_write_iter: at most a page is copied in (−EFAULT if the copy falls short) and handed to the node.</summary>
    public override long WriteIter(Kiocb iocb, IovIter from)
    {
        if (Node is not KernfsFileNode f) return -Errno.EISDIR;
        var len = (int)Math.Min(from.Count, PageDefs.PAGE_SIZE);
        var scratch = Fs.Scratch;
        if ((int)Fs.Machine.IovIter.CopyFromIter(scratch, (ulong)len, from) != len) return -Errno.EFAULT;
        if (!f.Active) return -Errno.ENODEV;
        Span<byte> tmp = stackalloc byte[len];
        Fs.Machine.Phys.PeekBytes(Fs.Machine.KernelMap.Pa(scratch)!.Value, tmp);
        var r = f.Write(this, iocb.Pos, tmp);
        if (r > 0) iocb.Pos += r;
        return r;
    }

    /// <summary>
    /// kernfs_dir_fops iterate: ".", "..", then the children (static, then dynamic). The list is the thread's kernfs
    /// entry list, refilled by each call and valid until the next kernfs ReadDir (getdents64 copies the records out
    /// first), so a directory scan makes no list per call.
    /// </summary>
    public override IReadOnlyList<DirEntry>? ReadDir()
    {
        if (Node is not KernfsDir d) return null;
        var list = KernfsFs.DirEntries;
        list.Clear();
        list.Add(new DirEntry(d.Ino, DirEntry.DtType(Fcntl.S_IFDIR), "."));
        list.Add(new DirEntry(d.Parent?.Ino ?? d.Ino, DirEntry.DtType(Fcntl.S_IFDIR), ".."));
        if (!d.Active) return list;
        var children = d.Children;
        if (d.DynamicList == null)
        {
            list.EnsureCapacity(2 + children.Count); // one array of the size needed, not 4, 8, 16 … on the way
            for (var i = 0; i < children.Count; i++) list.Add(new DirEntry(children[i].Ino, DirEntry.DtType(children[i].Mode), children[i].Name));
        }
        else foreach (var c in d.List()) list.Add(new DirEntry(c.Ino, DirEntry.DtType(c.Mode), c.Name));
        return list;
    }

    /// <summary>
    /// kernfs_fop_release: the last reference is gone. A text attribute's open file (its state is the seq text alone,
    /// nothing else refers to it now) goes back to the filesystem for the next open, as the kernel's struct file and
    /// kernfs_open_file go back to their slabs: ndctl opens and closes one attribute after another.
    /// </summary>
    public override void Release()
    {
        if (Node is KernfsAttribute && Private == null) Fs.SpareOpenFile = this;
    }

    /// <summary>kernfs_fop_llseek: generic_file_llseek against i_size.</summary>
    public override long Llseek(long offset, int whence) => GenericFileLlseekSize(offset, whence, long.MaxValue, Inode.Size);
}
