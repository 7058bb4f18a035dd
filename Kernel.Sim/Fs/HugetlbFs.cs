using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Fs;

/// <summary>
/// hugetlbfs (fs/hugetlbfs/inode.c) with the 2 MiB hstate: regular files whose page cache holds huge pages from the
/// pool (<see cref="Hugetlb"/>, sized by vm.nr_hugepages), filled at fault time, read with read(2), never written
/// with write(2) (no -&gt;write_iter: −EINVAL), sized with ftruncate in huge-page multiples. Flat namespace.
/// </summary>
public sealed class HugetlbFs : FileSystem
{
    private readonly Dictionary<string, HugetlbInode> _files = new(StringComparer.Ordinal);
    private ulong _nextIno = 2;

    private HugetlbFs(Machine machine) : base(machine, "hugetlbfs")
    {
        Pool = machine.Services.GetRequiredService<Hugetlb>();
        MaxBytes = long.MaxValue & ~(long)(Hugetlb.HPAGE_SIZE - 1);
    }

    /// <summary>The hstate's pool.</summary>
    public Hugetlb Pool { get; }

    /// <summary>mount -t hugetlbfs none <paramref name="mountPoint"/> (throws for a taken mount point: setup error).</summary>
    public static HugetlbFs Mount(Machine machine, string mountPoint = "/dev/hugepages")
    {
        ArgumentNullException.ThrowIfNull(machine);
        var fs = new HugetlbFs(machine);
        var r = machine.Vfs.Mount(fs, mountPoint);
        if (r < 0) throw new InvalidOperationException($"mount {mountPoint}: {Errno.Describe(r)}");
        return fs;
    }

    /// <summary>The kernel-internal, unmounted hugetlbfs instance (hugetlbfs_vfsmount) that memfd_create(MFD_HUGETLB) uses.</summary>
    internal static HugetlbFs Internal(Machine machine)
    {
        var pool = machine.Services.GetRequiredService<Hugetlb>();
        return (HugetlbFs)(pool.InternalMount ??= new HugetlbFs(machine));
    }

    /// <summary>
    /// hugetlb_file_setup (fs/hugetlbfs/inode.c) for memfd_create: an unlinked file called "memfd:<paramref name="name"/>"
    /// on the internal mount, opened O_RDWR.
    /// </summary>
    internal KFile FileSetup(string name)
    {
        var inode = new HugetlbInode(this, _nextIno++, "memfd:" + name) { Nlink = 0 };
        return new HugetlbFile(inode, Fcntl.O_RDWR);
    }

    /// <inheritdoc/>
    public override Inode? Lookup(string path) => _files.GetValueOrDefault(path.Trim('/'));

    /// <inheritdoc/>
    public override long Create(string path, int mode, out Inode? inode)
    {
        inode = null;
        var name = path.Trim('/');
        if (name.Length == 0) return -Errno.EISDIR;
        if (_files.ContainsKey(name)) return -Errno.EEXIST;
        var ino = new HugetlbInode(this, _nextIno++, name);
        _files.Add(name, ino);
        inode = ino;
        return 0;
    }

    /// <inheritdoc/>
    public override int Unlink(string path)
    {
        if (!_files.Remove(path.Trim('/'), out var ino)) return -Errno.ENOENT;
        ino.ClearNlink();
        if (ino.OpenCount == 0) ino.RemovePages(0);
        return 0;
    }

    /// <inheritdoc/>
    public override KFile OpenInode(Inode inode, int flags) => new HugetlbFile((HugetlbInode)inode, flags);

    /// <summary>hugetlbfs_setattr(ATTR_SIZE): −EINVAL unless a huge-page multiple; shrinking frees the pages past the end (hugetlb_vmtruncate).</summary>
    public override int Truncate(Inode inode, long size)
    {
        ArgumentNullException.ThrowIfNull(inode);
        if (size < 0 || (size & (long)(Hugetlb.HPAGE_SIZE - 1)) != 0) return -Errno.EINVAL;
        var h = (HugetlbInode)inode;
        if (size < h.Size) h.RemovePages((ulong)size >> Hugetlb.HPAGE_SHIFT);
        h.Size = size;
        return 0;
    }
}

/// <summary>A hugetlbfs inode: its page cache of huge pages (index in huge pages → folio) and the address spaces that map it.</summary>
public sealed class HugetlbInode : Inode, IHugetlbCacheOwner
{
    internal readonly SortedDictionary<ulong, HugetlbFolio> Pages = [];
    internal readonly HashSet<MmStruct> Mappers = [];

    internal HugetlbInode(HugetlbFs fs, ulong ino, string name) : base(fs, ino, Fcntl.S_IFREG | 0x1a4)
    {
        Fs = fs;
        Name = name;
    }

    /// <summary>The filesystem.</summary>
    public HugetlbFs Fs { get; }

    /// <summary>The file name ("memfd:x" for a memfd).</summary>
    public string Name { get; }

    internal int OpenCount { get; set; }

    /// <summary>The huge page cached at huge-page index <paramref name="index"/>, or null.</summary>
    public HugetlbFolio? Find(ulong index) => Pages.GetValueOrDefault(index);

    /// <summary>
    /// hugetlbfs_error_remove_folio: from 6.1 the poisoned folio stays in the page cache (a later fault or read sees
    /// it HWPoison); before, it was deleted from the cache (the file reads zeros there and a fault gets a new page).
    /// </summary>
    int IHugetlbCacheOwner.ErrorRemoveFolio(HugetlbFolio folio)
    {
        if (Fs.Machine.Profile.HugetlbfsKeepsErrorPage) return 0;
        Pages.Remove(folio.CacheIndex);
        folio.CacheOwner = null;
        Fs.Pool.Put(folio); // poisoned: dissolved, never reused
        return 0;
    }

    /// <summary>remove_inode_hugepages from huge-page index <paramref name="first"/>: unmap them from every process and give them back.</summary>
    internal void RemovePages(ulong first)
    {
        foreach (var (idx, folio) in Pages.Where(kv => kv.Key >= first).ToArray())
        {
            for (var i = 0; i < Hugetlb.PagesPerHuge; i++)
                foreach (var (mm, va) in Fs.Machine.Phys.Frame(folio.HeadPfn + (ulong)i).Mappings.ToArray()) mm.ZapRange(va, va + PageDefs.PAGE_SIZE);
            Pages.Remove(idx);
            Fs.Pool.Put(folio);
        }
    }

    internal HugetlbFolio? GetOrAlloc(ulong index)
    {
        if (Pages.TryGetValue(index, out var f)) return f;
        f = Fs.Pool.Alloc(anon: false);
        if (f == null) return null;
        f.CacheOwner = this;
        f.CacheIndex = index;
        Pages.Add(index, f); // hugetlb_add_to_page_cache (the folio is marked dirty there)
        return f;
    }
}

/// <summary>
/// An open hugetlbfs file (hugetlbfs_file_operations): read_iter = hugetlbfs_read_iter, mmap = hugetlbfs_file_mmap,
/// fsync = noop_fsync, no write_iter.
/// </summary>
public sealed class HugetlbFile : KFile
{
    internal HugetlbFile(HugetlbInode inode, int flags) : base(inode, flags)
    {
        HInode = inode;
        inode.OpenCount++;
    }

    /// <summary>The inode.</summary>
    public HugetlbInode HInode { get; }

    /// <inheritdoc/>
    protected override bool HasWriteIter => false;

    private Machine M => HInode.Fs.Machine;

    /// <summary>
    /// hugetlbfs_read_iter: per huge page up to i_size — a hole reads as zeros; a HWPoison huge page gives −EIO (the
    /// bytes already read are dropped: retval = −EIO) up to 6.5, and from 6.6 the bytes before its first raw HWPoison
    /// subpage at or after the offset (adjust_range_hwpoison; −EIO when there are none); a short copy ends the read
    /// (−EFAULT if nothing was read). ki_pos ends where the copying stopped.
    /// </summary>
    public override long ReadIter(Kiocb iocb, IovIter to)
    {
        const ulong hsize = Hugetlb.HPAGE_SIZE;
        var index = (ulong)iocb.Pos >> Hugetlb.HPAGE_SHIFT;
        var offset = (ulong)iocb.Pos & (hsize - 1);
        long retval = 0;
        while (to.Count > 0)
        {
            var nr = hsize;
            var isize = (ulong)HInode.Size;
            if (isize == 0) break;
            var endIndex = (isize - 1) >> Hugetlb.HPAGE_SHIFT;
            if (index > endIndex) break;
            if (index == endIndex)
            {
                nr = ((isize - 1) & (hsize - 1)) + 1;
                if (nr <= offset) break;
            }
            nr -= offset;
            ulong copied;
            var folio = HInode.Find(index);
            if (folio == null)
            {
                copied = M.IovIter.IovIterZero(nr, to);
            }
            else
            {
                var want = nr;
                if (folio.HwPoison)
                {
                    want = M.Profile.HugetlbfsReadPartialHwpoison ? AdjustRangeHwpoison(folio, offset, nr) : 0;
                    if (want == 0)
                    {
                        retval = -Errno.EIO;
                        break;
                    }
                }
                copied = M.IovIter.CopyPageToIter(folio.HeadPfn, offset, want, to, hsize);
            }
            offset += copied;
            retval += (long)copied;
            if (copied != nr && to.Count != 0)
            {
                if (retval == 0) retval = -Errno.EFAULT;
                break;
            }
            index += offset >> Hugetlb.HPAGE_SHIFT;
            offset &= hsize - 1;
        }
        iocb.Pos = (long)((index << Hugetlb.HPAGE_SHIFT) + offset);
        return retval;
    }

    /// <summary>adjust_range_hwpoison (fs/hugetlbfs/inode.c, 6.6+): how many bytes from <paramref name="offset"/> come before the first raw HWPoison subpage.</summary>
    private static ulong AdjustRangeHwpoison(HugetlbFolio folio, ulong offset, ulong bytes)
    {
        ulong res = 0;
        var sub = folio.HeadPfn + (offset >> PageDefs.PAGE_SHIFT);
        offset &= PageDefs.PAGE_SIZE - 1;
        while (true)
        {
            if (folio.IsRawHwpoison(sub)) break;
            var n = Math.Min(bytes, PageDefs.PAGE_SIZE - offset);
            res += n;
            bytes -= n;
            if (bytes == 0 || n == 0) break;
            offset += n;
            if (offset == PageDefs.PAGE_SIZE)
            {
                sub++;
                offset = 0;
            }
        }
        return res;
    }

    /// <summary>noop_fsync: 0.</summary>
    public override int Fsync(long start, long end, bool datasync) => 0;

    /// <summary>
    /// hugetlb_get_unmapped_area (fs/hugetlbfs/inode.c, generic_hugetlb_get_unmapped_area): a length that is not a
    /// huge-page multiple → −EINVAL; MAP_FIXED → the address, −EINVAL unless huge-page aligned
    /// (prepare_hugepage_range); a hint rounded up to 2 MiB when the range is free; otherwise the top-down search with
    /// the huge-page alignment (vm_unmapped_area with align_mask): the highest 2 MiB-aligned free range below
    /// mmap_base. 0 when nothing fits.
    /// </summary>
    public override ulong? GetUnmappedArea(MmStruct mm, ulong addr, ulong len, ulong pgoff, int flags)
    {
        ArgumentNullException.ThrowIfNull(mm);
        const ulong size = Hugetlb.HPAGE_SIZE;
        if ((len & (size - 1)) != 0) return unchecked((ulong)(long)-Errno.EINVAL);
        if ((flags & Mman.MAP_FIXED) != 0) return (addr & (size - 1)) != 0 ? unchecked((ulong)(long)-Errno.EINVAL) : addr;
        if (addr != 0)
        {
            addr = (addr + size - 1) & ~(size - 1);
            if (addr != 0 && PageDefs.TASK_SIZE_MAX - len >= addr && !mm.Vmas.Any(v => v.Start < addr + len && addr < v.End)) return addr;
        }
        var top = MmStruct.MmapBase;
        for (var i = mm.Vmas.Count - 1; i >= -1; i--)
        {
            var floor = i >= 0 ? mm.Vmas[i].End : MmStruct.MmapMinAddr;
            if (top > floor && top - floor >= len)
            {
                var a = (top - len) & ~(size - 1);
                if (a >= floor) return a;
            }
            if (i >= 0) top = Math.Min(top, mm.Vmas[i].Start);
        }
        return 0;
    }

    /// <summary>
    /// hugetlbfs_file_mmap: −EINVAL when the file offset is not huge-page aligned; the VMA gets the hugetlb fault
    /// handler. The address and length are on 2 MiB boundaries (<see cref="GetUnmappedArea"/> placed them; the model
    /// refuses an unaligned VMA with −EINVAL), and the call is refused with
    /// −ENOMEM when the pool lacks the pages the mapping may need (hugetlb_reserve_pages, without a reservation count).
    /// </summary>
    public override int Mmap(Vma vma)
    {
        ArgumentNullException.ThrowIfNull(vma);
        const ulong hpages = Hugetlb.HPAGE_SIZE >> PageDefs.PAGE_SHIFT;
        if ((vma.PgOff & (hpages - 1)) != 0) return -Errno.EINVAL;
        if ((vma.Start & (Hugetlb.HPAGE_SIZE - 1)) != 0 || ((vma.End - vma.Start) & (Hugetlb.HPAGE_SIZE - 1)) != 0) return -Errno.EINVAL;
        var first = vma.PgOff / hpages;
        var count = (vma.End - vma.Start) >> Hugetlb.HPAGE_SHIFT;
        ulong need = 0;
        for (var i = first; i < first + count; i++) if (!vma.Shared || HInode.Find(i) == null) need++;
        if (HInode.Fs.Pool.FreeHugePages < need) return -Errno.ENOMEM;
        vma.VmOps = new HugetlbVmOperations(HInode);
        if (M.Current?.Mm is { } mm) HInode.Mappers.Add(mm);
        return 0;
    }

    /// <inheritdoc/>
    public override void Release()
    {
        HInode.OpenCount--;
        if (HInode.OpenCount == 0 && HInode.Nlink == 0) HInode.RemovePages(0);
    }
}

/// <summary>
/// hugetlb_vm_ops / hugetlb_fault: a fault maps the whole 2 MiB page (shift 21). Shared: the page-cache page, allocated
/// (zeroed) on first touch; a HWPoison one → VM_FAULT_HWPOISON_LARGE. Private: a read maps the file's page read-only
/// (or a new private zeroed page over a hole), a write gets a private copy (hugetlb_wp), reused by later writes.
/// Beyond i_size → VM_FAULT_SIGBUS; an empty pool → VM_FAULT_OOM.
/// </summary>
internal sealed class HugetlbVmOperations(HugetlbInode inode) : IVmOperations
{
    public VmFault Fault(MmStruct mm, Vma vma, ulong address, bool write, out ulong pfn, out int shift)
    {
        shift = Hugetlb.HPAGE_SHIFT;
        pfn = 0;
        var phys = inode.Fs.Machine.Phys;
        var fileOff = (vma.PgOff << PageDefs.PAGE_SHIFT) + (address - vma.Start);
        var index = fileOff >> Hugetlb.HPAGE_SHIFT;
        if ((long)fileOff >= inode.Size) return VmFault.VM_FAULT_SIGBUS;
        var cached = inode.Find(index);
        if (cached is { HwPoison: true }) return VmFault.VM_FAULT_HWPOISON_LARGE;
        if (vma.Shared || (!write && cached != null))
        {
            var f = inode.GetOrAlloc(index);
            if (f == null) return VmFault.VM_FAULT_OOM;
            pfn = f.HeadPfn;
            return VmFault.VM_FAULT_NOPAGE;
        }
        if (mm.PfnAt(address) is { } cur && phys.Frame(cur).Huge is { Anon: true } mine)
        {
            pfn = mine.HeadPfn; // hugetlb_wp: the private copy is already ours
            return VmFault.VM_FAULT_NOPAGE;
        }
        var copy = inode.Fs.Pool.Alloc(anon: true);
        if (copy == null) return VmFault.VM_FAULT_OOM;
        if (cached != null)
        {
            Span<byte> buf = stackalloc byte[(int)PageDefs.PAGE_SIZE];
            for (var i = 0UL; i < (ulong)Hugetlb.PagesPerHuge; i++)
            {
                phys.PeekBytes(PhysAddr.FromPfn(cached.HeadPfn + i), buf);
                phys.PokeBytes(PhysAddr.FromPfn(copy.HeadPfn + i), buf);
            }
        }
        pfn = copy.HeadPfn;
        return VmFault.VM_FAULT_NOPAGE;
    }
}
