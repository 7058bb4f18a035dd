using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// fs/buffer.c block_write_begin / block_write_end + generic_write_end with one block per page (blocksize ==
/// PAGE_SIZE): any short copy into a non-uptodate folio counts as 0 bytes (F4), the new block's range
/// is zeroed and committed, and the caller must redo the write.
/// </summary>
public sealed class BlockWriteAops : AddressSpaceOperations
{
    /// <inheritdoc/>
    public override string WriteBeginName => "block_write_begin";

    /// <inheritdoc/>
    public override string WriteEndName => "block_write_end";

    /// <summary>
    /// block_write_begin → __block_write_begin_int: a folio without data gets a new block (buffer_new); a partial
    /// write into a new block zeroes the block outside [from, to) (folio_zero_segments).
    /// </summary>
    public override int WriteBegin(KFile file, AddressSpace mapping, long pos, ulong len, out Folio? folio)
    {
        folio = mapping.GetOrCreate((ulong)pos >> PageDefs.PAGE_SHIFT, out var created);
        if (folio == null) return -Errno.ENOMEM;
        if (created) folio.New = true;
        if (folio.New && !folio.Uptodate)
        {
            var from = PageDefs.OffsetInPage((ulong)pos);
            mapping.FolioZeroSegment(folio, 0, from);
            mapping.FolioZeroSegment(folio, from + len, PageDefs.PAGE_SIZE);
        }
        return 0;
    }

    /// <summary>
    /// generic_write_end(block_write_end): a short copy into a non-uptodate folio becomes 0; folio_zero_new_buffers
    /// zeroes [from+copied, from+len) of a new block and marks it uptodate; __block_commit_write marks the written
    /// block uptodate and dirty, and the folio uptodate when its block is; i_size grows to pos+copied.
    /// </summary>
    public override long WriteEnd(KFile file, AddressSpace mapping, long pos, ulong len, ulong copied, Folio folio)
    {
        var from = PageDefs.OffsetInPage((ulong)pos);
        if (copied < len)
        {
            if (!folio.Uptodate) copied = 0;
            if (folio.New)
            {
                if (!folio.Uptodate) mapping.FolioZeroSegment(folio, from + copied, from + len);
                folio.Uptodate = true; // set_buffer_uptodate on the zeroed new block
                folio.New = false;
                folio.Dirty = true;
            }
        }
        // __block_commit_write(folio, from, from + copied): the only block overlaps a non-empty range → uptodate.
        if (copied > 0)
        {
            folio.Uptodate = true;
            folio.Dirty = true;
        }
        folio.New = false;
        var inode = file.Inode;
        if (pos + (long)copied > inode.Size) inode.Size = pos + (long)copied;
        return (long)copied;
    }
}
