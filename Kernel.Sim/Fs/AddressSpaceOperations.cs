namespace KernelSim.Fs;

/// <summary>
/// struct address_space_operations (include/linux/fs.h), the part the buffered write path calls:
/// ->write_begin prepares (and locks) the folio for [pos, pos+len); ->write_end commits what was copied
/// and returns how many bytes it accepted (which may be fewer than copied, forcing the caller to redo).
/// </summary>
public abstract class AddressSpaceOperations
{
    /// <summary>Name for traces ("simple_write_end", "block_write_end").</summary>
    public abstract string WriteEndName { get; }

    /// <summary>Name for traces ("simple_write_begin", "block_write_begin").</summary>
    public abstract string WriteBeginName { get; }

    /// <summary>->write_begin(file, mapping, pos, len, &amp;folio): 0 with the folio, or −errno.</summary>
    public abstract int WriteBegin(KFile file, AddressSpace mapping, long pos, ulong len, out Folio? folio);

    /// <summary>->write_end(file, mapping, pos, len, copied, folio): bytes accepted (≤ copied) or −errno.</summary>
    public abstract long WriteEnd(KFile file, AddressSpace mapping, long pos, ulong len, ulong copied, Folio folio);

    /// <summary>
    /// ->read_folio(file, folio): fill a folio that is not uptodate from the backing store and mark it uptodate;
    /// 0 or −errno (−EIO when the device read failed; the folio stays not uptodate). Default: simple_read_folio
    /// (fs/libfs.c; ramfs): the folio is zeroed and uptodate.
    /// </summary>
    public virtual int ReadFolio(KFile file, AddressSpace mapping, Folio folio)
    {
        mapping.FolioZeroSegment(folio, 0, KernelSim.Mm.PageDefs.PAGE_SIZE);
        folio.Uptodate = true;
        return 0;
    }

    /// <summary>
    /// mapping_can_writeback(mapping): the backing device writes pages back (BDI_CAP_WRITEBACK). False for ramfs-like
    /// filesystems whose page cache is the only copy.
    /// </summary>
    public virtual bool CanWriteback => false;

    /// <summary>
    /// -&gt;error_remove_folio(mapping, folio) for memory_failure: 0 when the folio was removed, −errno when refused, or
    /// null when the filesystem has no such operation (memory_failure then tries mapping_evict_folio).
    /// </summary>
    public virtual int? ErrorRemoveFolio(AddressSpace mapping, Folio folio) => null;

    /// <summary>
    /// generic_error_remove_folio (mm/truncate.c): −EIO unless the host is a regular file, else truncate_inode_folio
    /// (the folio, dirty or not, leaves the page cache).
    /// </summary>
    public static int GenericErrorRemoveFolio(AddressSpace mapping, Folio folio, bool regularFile)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(folio);
        if (!regularFile) return -KernelSim.Uapi.Errno.EIO;
        folio.CancelDirty();
        mapping.DeleteFromPageCache(folio);
        return 0;
    }
}
