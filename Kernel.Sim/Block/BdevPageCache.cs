using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>
/// The block-device page cache I/O of one disk: mm/readahead.c (page_cache_sync_ra → page_cache_ra_unbounded →
/// blkdev_readahead / mpage_readahead: one bio per contiguous run of missing folios), blkdev_read_folio
/// (block_read_full_folio), writeback of dirty folios (blkdev_writepages, one bio per folio) and invalidation
/// before O_DIRECT writes. Failed readahead leaves folios in the cache not uptodate (mpage_end_io).
/// </summary>
internal sealed class BdevPageCache(BlockDevice bdev)
{
    private const int SectorsPerPage = (int)(PageDefs.PAGE_SIZE >> BlockDevice.SECTOR_SHIFT);

    private AddressSpace Mapping => bdev.Inode!.Mapping!;

    /// <summary>Bytes of folio <paramref name="index"/> that lie inside the device (PAGE_SIZE except at a non-page-aligned end).</summary>
    private uint BytesInDevice(ulong index)
    {
        var start = (long)(index << PageDefs.PAGE_SHIFT);
        var left = bdev.SizeBytes - start;
        return left <= 0 ? 0 : (uint)Math.Min(left, (long)PageDefs.PAGE_SIZE);
    }

    /// <summary>
    /// blkdev_read_folio → block_read_full_folio: read the folio's blocks with one bio (the part past the device end is
    /// zeroed). On failure the folio stays not uptodate, "Buffer I/O error on dev NAME, logical block N, async page
    /// read" is logged and -EIO returned.
    /// </summary>
    public int ReadFolio(Folio folio)
    {
        using var _ = bdev.Machine.Tracer.Fn("blkdev_read_folio", "block");
        var n = BytesInDevice(folio.Index);
        if (n < PageDefs.PAGE_SIZE) bdev.Machine.Phys.WriteSpan(folio.Pfn, (int)n, (int)(PageDefs.PAGE_SIZE - n)).Clear();
        if (n > 0)
        {
            var bio = new Bio(bdev, BioOp.REQ_OP_READ, (long)folio.Index * SectorsPerPage);
            bio.AddPage(folio.Pfn, n, 0);
            if (bdev.SubmitBio(bio) != BlkStatus.BLK_STS_OK)
            {
                var block = (long)(folio.Index << PageDefs.PAGE_SHIFT) / bdev.BlockSize;
                bdev.Machine.State.Printk($"Buffer I/O error on dev {bdev.Name}, logical block {block}, async page read");
                return -Errno.EIO;
            }
        }
        folio.Uptodate = true;
        return 0;
    }

    /// <summary>
    /// page_cache_ra_unbounded(index, nr): allocate the missing folios of [index, index+nr) (clipped to the device end)
    /// and read each contiguous run of them with one REQ_RAHEAD bio; a folio already cached ends the current run.
    /// Folios of a failed bio stay cached but not uptodate.
    /// </summary>
    public void Readahead(ulong index, ulong nr)
    {
        using var _ = bdev.Machine.Tracer.Fn("page_cache_ra_unbounded", "mm");
        var endIndex = PageDefs.PageAlign((ulong)bdev.SizeBytes) >> PageDefs.PAGE_SHIFT;
        var last = Math.Min(index + nr, endIndex);
        var batch = new List<Folio>();
        for (var i = index; i < last; i++)
        {
            if (Mapping.Find(i) != null)
            {
                SubmitReadahead(batch);
                continue;
            }
            var f = Mapping.GetOrCreate(i, out var created);
            if (f == null) break;
            batch.Add(f);
        }
        SubmitReadahead(batch);
    }

    /// <summary>read_pages → mpage_readahead: one bio for the batch (split at BIO_MAX_VECS); end_io marks the folios uptodate on success.</summary>
    private void SubmitReadahead(List<Folio> batch)
    {
        var k = 0;
        while (k < batch.Count)
        {
            var bio = new Bio(bdev, BioOp.REQ_OP_READ, (long)batch[k].Index * SectorsPerPage, BioFlags.REQ_RAHEAD);
            var members = new List<Folio>();
            var slots = 0;
            while (k < batch.Count && slots < Bio.BIO_MAX_VECS)
            {
                var f = batch[k];
                var n = BytesInDevice(f.Index);
                if (n < PageDefs.PAGE_SIZE) bdev.Machine.Phys.WriteSpan(f.Pfn, (int)n, (int)(PageDefs.PAGE_SIZE - n)).Clear();
                bio.AddPage(f.Pfn, n, 0);
                members.Add(f);
                slots++;
                k++;
            }
            var ok = bdev.SubmitBio(bio) == BlkStatus.BLK_STS_OK;
            foreach (var f in members) f.Uptodate = ok;
        }
        batch.Clear();
    }

    /// <summary>
    /// page_cache_sync_ra(ractl, req_count) (mm/readahead.c, 5.x–6.x shape without the async marker): at the start
    /// of the device, for a sequential read or a request larger than the window, the initial window
    /// get_init_ra_size(req, ra_pages); otherwise (a random read without history) exactly the requested pages.
    /// </summary>
    public void SyncReadahead(ulong index, ulong reqCount, long prevIndex)
    {
        using var _ = bdev.Machine.Tracer.Fn("page_cache_sync_readahead", "mm");
        var max = (ulong)Math.Max(bdev.RaPages, 0);
        if (max == 0)
        {
            // force_page_cache_ra with no readahead: just the pages asked for.
            Readahead(index, reqCount);
            return;
        }
        ulong size;
        if (index == 0 || reqCount > max || (prevIndex >= 0 && index - (ulong)prevIndex <= 1))
            size = GetInitRaSize(reqCount, max);
        else
            size = reqCount;
        Readahead(index, Math.Max(size, 1));
    }

    /// <summary>get_init_ra_size (mm/readahead.c).</summary>
    internal static ulong GetInitRaSize(ulong size, ulong max)
    {
        var newsize = System.Numerics.BitOperations.RoundUpToPowerOf2(Math.Max(size, 1));
        if (newsize <= max / 32) return newsize * 4;
        if (newsize <= max / 4) return newsize * 2;
        return max;
    }

    /// <summary>
    /// filemap_write_and_wait_range over the bdev mapping: every dirty folio overlapping [start, end] is written with
    /// one bio. A failed write loses the data (the folio becomes clean), bumps the mapping's errseq, logs "Buffer
    /// I/O error on dev NAME, logical block N, lost async page write" and makes the result -EIO. An empty mapping
    /// has nothing to write (mapping_needs_writeback: nrpages == 0).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public int WriteAndWait(long start, long end) =>
        bdev.Inode?.Mapping is not { NrPages: > 0 } || end < start ? 0 : WriteAndWaitPages(start, end); // every O_DIRECT call: inline

    private int WriteAndWaitPages(long start, long end)
    {
        var first = (ulong)Math.Max(start, 0) >> PageDefs.PAGE_SHIFT;
        var last = (ulong)end >> PageDefs.PAGE_SHIFT;
        var err = 0;
        foreach (var f in Mapping.Folios.ToArray())
        {
            if (f.Index < first || f.Index > last || !f.Dirty) continue;
            using var _ = bdev.Machine.Tracer.Fn("blkdev_writepages", "block");
            var bio = new Bio(bdev, BioOp.REQ_OP_WRITE, (long)f.Index * SectorsPerPage);
            bio.AddPage(f.Pfn, BytesInDevice(f.Index), 0);
            f.Dirty = false;
            if (bdev.SubmitBio(bio) != BlkStatus.BLK_STS_OK)
            {
                var block = (long)(f.Index << PageDefs.PAGE_SHIFT) / bdev.BlockSize;
                bdev.Machine.State.Printk($"Buffer I/O error on dev {bdev.Name}, logical block {block}, lost async page write");
                bdev.WbErrSeq++;
                err = -Errno.EIO;
            }
        }
        return err;
    }

    /// <summary>invalidate_inode_pages2_range: drop the cached folios overlapping [start, end] (nothing when mapping_empty).</summary>
    public void Invalidate(long start, long end)
    {
        if (bdev.Inode?.Mapping is not { NrPages: > 0 } || end < start) return;
        var first = (ulong)Math.Max(start, 0) >> PageDefs.PAGE_SHIFT;
        var last = (ulong)end >> PageDefs.PAGE_SHIFT;
        foreach (var f in Mapping.Folios.ToArray())
        {
            if (f.Index >= first && f.Index <= last) Mapping.Remove(f.Index);
        }
    }

    /// <summary>sync_blockdev + kill_bdev (last close): write back everything, then drop the cache.</summary>
    public void FlushAndDrop()
    {
        WriteAndWait(0, long.MaxValue);
        Invalidate(0, long.MaxValue);
    }
}

/// <summary>
/// def_blk_aops write side (block/fops.c blkdev_write_begin / blkdev_write_end = block_write_begin /
/// block_write_end with blkdev_get_block): a block device never has new blocks, so a write that does not cover
/// a whole non-uptodate folio first reads it (-EIO when that read fails); the end commits the copy (a short copy
/// into a non-uptodate folio counts 0) and marks the folio dirty. Reading the whole folio rather than only the
/// partially written blocks is exact for the usual page-sized bdev block size.
/// </summary>
internal sealed class BlkdevAops(BlockDevice bdev) : AddressSpaceOperations
{
    /// <inheritdoc/>
    public override string WriteBeginName => "blkdev_write_begin";

    /// <inheritdoc/>
    public override string WriteEndName => "blkdev_write_end";

    /// <summary>The block device writes its pages back (drop_caches and memory_failure may drop clean ones).</summary>
    public override bool CanWriteback => true;

    /// <summary>def_blk_aops: generic_error_remove_folio, which refuses a block device's folio with −EIO.</summary>
    public override int? ErrorRemoveFolio(AddressSpace mapping, Folio folio) => GenericErrorRemoveFolio(mapping, folio, regularFile: false);

    /// <inheritdoc/>
    public override int WriteBegin(KFile file, AddressSpace mapping, long pos, ulong len, out Folio? folio)
    {
        folio = mapping.GetOrCreate((ulong)pos >> PageDefs.PAGE_SHIFT, out _);
        if (folio == null) return -Errno.ENOMEM;
        if (folio.Uptodate) return 0;
        var from = PageDefs.OffsetInPage((ulong)pos);
        if (from == 0 && len >= PageDefs.PAGE_SIZE) return 0;
        var r = bdev.PageCache.ReadFolio(folio);
        if (r < 0)
        {
            folio = null;
            return r;
        }
        return 0;
    }

    /// <summary>-&gt;read_folio = blkdev_read_folio (block_read_full_folio).</summary>
    public override int ReadFolio(KFile file, AddressSpace mapping, Folio folio) => bdev.PageCache.ReadFolio(folio);

    /// <inheritdoc/>
    public override long WriteEnd(KFile file, AddressSpace mapping, long pos, ulong len, ulong copied, Folio folio)
    {
        if (copied < len && !folio.Uptodate) copied = 0;
        if (copied > 0)
        {
            folio.Uptodate = true;
            folio.Dirty = true;
        }
        return (long)copied;
    }
}
