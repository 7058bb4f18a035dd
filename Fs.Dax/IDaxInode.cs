namespace KernelSim.Fs.Dax;

/// <summary>
/// What fs/dax.c needs from the inode beyond struct inode: its page-cache (i_pages) DAX entries and the
/// mappings of the file (i_mmap). A filesystem's DAX inode implements it; fs/dax.c uses it when present.
/// </summary>
public interface IDaxInode
{
    /// <summary>
    /// unmap_mapping_range / invalidate_inode_pages2_range over file bytes [start, start+len): zap every user
    /// mapping of that range (zero-page hole mappings torn down before blocks are allocated there).
    /// </summary>
    void UnmapMappingRange(long start, long len);

    /// <summary>dax_insert_entry: the DAX entry of page <paramref name="index"/> now maps <paramref name="pfn"/>.</summary>
    void InsertDaxEntry(ulong index, ulong pfn);

    /// <summary>vfs_fsync_range(file, start, end, datasync=1) from dax_finish_sync_fault (MAP_SYNC): 0 or −errno.</summary>
    int SyncForFault(long start, long end);
}
