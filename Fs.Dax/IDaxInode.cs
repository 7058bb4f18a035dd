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

    /// <summary>grab_mapping_entry(PMD_ORDER)'s test: a 4 KiB entry in the 2 MiB range starting at <paramref name="pmdIndex"/> makes a PMD fault fall back.</summary>
    bool HasPteEntryIn(ulong pmdIndex);

    /// <summary>The PMD entry at <paramref name="pmdIndex"/>, if there is one.</summary>
    DaxEntry? PmdEntryAt(ulong pmdIndex);

    /// <summary>
    /// dax_insert_entry: page <paramref name="index"/> (a PMD entry's first page) now maps <paramref name="pfn"/>; a
    /// zero-page entry over a hole with <paramref name="zero"/>; tagged dirty by a shared write fault. A PTE entry
    /// inside a PMD zero entry first downgrades it (unmapping the 2 MiB).
    /// </summary>
    void InsertDaxEntry(ulong index, ulong pfn, bool pmd, bool zero, bool dirty);

    /// <summary>vfs_fsync_range(file, start, end, datasync=1) from dax_finish_sync_fault (MAP_SYNC): 0 or −errno.</summary>
    int SyncForFault(long start, long end);
}
