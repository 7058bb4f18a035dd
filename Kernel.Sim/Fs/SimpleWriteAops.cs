using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// fs/libfs.c simple_write_begin / simple_write_end (ramfs, libfs-style page-cache filesystems): a short copy
/// is accepted; the rest of a non-uptodate folio's range is zero-filled and the folio marked uptodate.
/// </summary>
public sealed class SimpleWriteAops : AddressSpaceOperations
{
    /// <inheritdoc/>
    public override string WriteBeginName => "simple_write_begin";

    /// <inheritdoc/>
    public override string WriteEndName => "simple_write_end";

    /// <summary>
    /// simple_write_begin: __filemap_get_folio(FGP_WRITEBEGIN); if the folio is not uptodate and the write does
    /// not cover it, zero the segments outside [from, from+len).
    /// </summary>
    public override int WriteBegin(KFile file, AddressSpace mapping, long pos, ulong len, out Folio? folio)
    {
        folio = mapping.GetOrCreate((ulong)pos >> PageDefs.PAGE_SHIFT, out _);
        if (folio == null) return -Errno.ENOMEM;
        if (!folio.Uptodate && len != PageDefs.PAGE_SIZE)
        {
            var from = PageDefs.OffsetInPage((ulong)pos);
            mapping.FolioZeroSegment(folio, 0, from);
            mapping.FolioZeroSegment(folio, from + len, PageDefs.PAGE_SIZE);
        }
        return 0;
    }

    /// <summary>
    /// simple_write_end: on a non-uptodate folio zero [from+copied, from+len) after a short copy and mark it
    /// uptodate; extend i_size to pos+copied; mark dirty; return copied.
    /// </summary>
    public override long WriteEnd(KFile file, AddressSpace mapping, long pos, ulong len, ulong copied, Folio folio)
    {
        var inode = file.Inode;
        if (!folio.Uptodate)
        {
            if (copied < len)
            {
                var from = PageDefs.OffsetInPage((ulong)pos);
                mapping.FolioZeroSegment(folio, from + copied, from + len);
            }
            folio.Uptodate = true;
        }
        var last = pos + (long)copied;
        if (last > inode.Size) inode.Size = last;
        folio.Dirty = true;
        folio.New = false;
        return (long)copied;
    }
}
