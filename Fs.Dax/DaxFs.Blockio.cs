using KernelSim.Block;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

public sealed partial class DaxFs
{
    /// <summary>-&gt;read_folio for dax=never: one read bio for the folio's block (mpage_read_folio with one block per page).</summary>
    internal int ReadFolioFromDevice(DaxInode ino, Folio folio)
    {
        using var fn = Machine.Tracer.Fn("daxfs_read_folio", "fs");
        var e = ino.Node.Extents.Lookup((long)folio.Index, out _);
        if (e == null || e.Unwritten)
        {
            ino.Mapping!.FolioZeroSegment(folio, 0, PageDefs.PAGE_SIZE); // do_mpage_readpage: a hole reads as zeros
            folio.MarkUptodate();
            return 0;
        }
        if (Bdev == null) return -Errno.EIO;
        var bio = new Bio(Bdev, BioOp.REQ_OP_READ, e.DevOf((long)folio.Index) << (DaxFsVolume.BlockShift - 9));
        bio.AddPage(folio.Pfn, DaxFsVolume.BlockSize, 0);
        var r = Bdev.SubmitBioWait(bio);
        if (r < 0) return -Errno.EIO;
        folio.MarkUptodate();
        return 0;
    }

    /// <summary>get_block(create=1) for one block: allocate a hole (zeroed) or convert an unwritten block. 0 or −errno.</summary>
    internal int EnsureBlock(DaxInode ino, long fblk)
    {
        var e = ino.Node.Extents.Lookup(fblk, out _);
        if (e == null) return (int)AllocateBlocks(ino, fblk, 1, unwritten: false, out _);
        if (e.Unwritten) return ConvertUnwritten(ino, e, fblk, 1);
        return 0;
    }

    /// <summary>
    /// Write back the dirty folios of [start, end] (filemap_write_and_wait_range / ext4_writepages): one write bio
    /// per folio; a failed bio sets the mapping error (mapping_set_error) and the folio is clean afterwards.
    /// Returns 0 or −EIO.
    /// </summary>
    internal int WritebackRange(DaxInode ino, long start, long end)
    {
        using var fn = Machine.Tracer.Fn("daxfs_writepages", "fs");
        var mapping = ino.Mapping;
        if (mapping == null || Bdev == null) return 0;
        var err = 0;
        foreach (var f in mapping.Folios.ToArray())
        {
            if (!f.Dirty) continue;
            var off = (long)(f.Index << PageDefs.PAGE_SHIFT);
            if (off > end || off + (long)PageDefs.PAGE_SIZE <= start) continue;
            if (off >= ino.Size)
            {
                f.ClearDirtyForIo();
                continue;
            }
            var r = EnsureBlock(ino, (long)f.Index);
            if (r >= 0)
            {
                var e = ino.Node.Extents.Lookup((long)f.Index, out _)!;
                var bio = new Bio(Bdev, BioOp.REQ_OP_WRITE, e.DevOf((long)f.Index) << (DaxFsVolume.BlockShift - 9));
                bio.AddPage(f.Pfn, DaxFsVolume.BlockSize, 0);
                r = Bdev.SubmitBioWait(bio);
            }
            f.ClearDirtyForIo();
            if (r < 0) mapping.MappingSetError(-Errno.EIO); // end_buffer_async_write → mapping_set_error
            if (r < 0 && err == 0) err = -Errno.EIO;
        }
        return err;
    }

    /// <summary>Zero [pos, pos+len) through the page cache (dax=never truncate/punch/zero-range edges).</summary>
    internal int ZeroPagecacheRange(DaxInode ino, long pos, long len)
    {
        var mapping = ino.Mapping;
        if (mapping == null) return 0;
        var end = pos + len;
        while (pos < end)
        {
            var index = (ulong)pos >> PageDefs.PAGE_SHIFT;
            var off = PageDefs.OffsetInPage((ulong)pos);
            var n = (long)Math.Min(PageDefs.PAGE_SIZE - off, (ulong)(end - pos));
            var e = ino.Node.Extents.Lookup((long)index, out _);
            var folio = mapping.Find(index);
            if (e == null || e.Unwritten)
            {
                if (folio != null) mapping.FolioZeroSegment(folio, off, off + (ulong)n);
            }
            else
            {
                folio ??= mapping.GrabFolio(index);
                if (folio == null) return -Errno.ENOMEM;
                if (!folio.Uptodate)
                {
                    var r = ReadFolioFromDevice(ino, folio);
                    if (r < 0) return r;
                }
                mapping.FolioZeroSegment(folio, off, off + (ulong)n);
                folio.MarkDirty();
            }
            pos += n;
        }
        return 0;
    }

    /// <summary>Forget cached folios of whole pages in [start, end) (truncate_inode_pages_range / kiocb_invalidate_pages): they are reread next time.</summary>
    internal void InvalidatePagecache(DaxInode ino, long start, long end)
    {
        var mapping = ino.Mapping;
        if (mapping == null) return;
        foreach (var f in mapping.Folios)
        {
            var off = (long)(f.Index << PageDefs.PAGE_SHIFT);
            if (off < start || off + (long)PageDefs.PAGE_SIZE > end) continue;
            f.ClearUptodate();
            f.CancelDirty();
        }
    }
}
