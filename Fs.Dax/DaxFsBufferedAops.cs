using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

/// <summary>
/// The address_space_operations of a dax=never mount (ext4_aops in spirit, one block per page): -&gt;read_folio
/// reads the block with a bio (holes and unwritten blocks read as zeros; a failed bio leaves the folio not
/// uptodate and returns −EIO), -&gt;write_begin allocates the block (zeroed) and reads a partially written folio
/// first, -&gt;write_end is block_write_end (a short copy into a folio that is not uptodate counts as 0).
/// </summary>
internal sealed class DaxFsBufferedAops(DaxFs fs) : AddressSpaceOperations
{
    public override string WriteBeginName => "daxfs_write_begin";

    public override string WriteEndName => "block_write_end";

    public override bool CanWriteback => true;

    // ext4_aops / xfs_address_space_operations: .error_remove_folio = generic_error_remove_folio (regular files only).
    public override int? ErrorRemoveFolio(AddressSpace mapping, Folio folio) => GenericErrorRemoveFolio(mapping, folio, regularFile: true);

    public override int ReadFolio(KFile file, AddressSpace mapping, Folio folio) => fs.ReadFolioFromDevice((DaxInode)file.Inode, folio);

    public override int WriteBegin(KFile file, AddressSpace mapping, long pos, ulong len, out Folio? folio)
    {
        var ino = (DaxInode)file.Inode;
        folio = mapping.GrabFolio((ulong)pos >> PageDefs.PAGE_SHIFT);
        if (folio == null) return -Errno.ENOMEM;
        var r = fs.EnsureBlock(ino, (long)folio.Index);
        if (r < 0) return r;
        if (!folio.Uptodate && len != PageDefs.PAGE_SIZE)
        {
            r = fs.ReadFolioFromDevice(ino, folio);
            if (r < 0) return r;
        }
        return 0;
    }

    public override long WriteEnd(KFile file, AddressSpace mapping, long pos, ulong len, ulong copied, Folio folio)
    {
        if (copied < len && !folio.Uptodate) copied = 0;
        if (copied > 0)
        {
            folio.MarkUptodate();
            folio.MarkDirty();
        }
        var inode = (DaxInode)file.Inode;
        if (pos + (long)copied > inode.Size)
        {
            inode.Size = pos + (long)copied;
            inode.MetadataDirty = true;
        }
        return (long)copied;
    }
}
