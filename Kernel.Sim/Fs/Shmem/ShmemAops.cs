using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// shmem_aops (mm/shmem.c): shmem_write_begin / shmem_write_end for the buffered write path and
/// shmem_error_remove_folio for memory_failure.
/// </summary>
internal sealed class ShmemAops(Machine machine) : AddressSpaceOperations
{
    /// <inheritdoc/>
    public override string WriteBeginName => "shmem_write_begin";

    /// <inheritdoc/>
    public override string WriteEndName => "shmem_write_end";

    /// <summary>
    /// shmem_write_begin: F_SEAL_WRITE / F_SEAL_FUTURE_WRITE → −EPERM, F_SEAL_GROW past i_size → −EPERM; the folio
    /// (SGP_WRITE); a HWPoison folio → −EIO (5.17+, SH3).
    /// </summary>
    public override int WriteBegin(KFile file, AddressSpace mapping, long pos, ulong len, out Folio? folio)
    {
        folio = null;
        var inode = (ShmemInode)file.Inode;
        if ((inode.Seals & (Memfd.F_SEAL_GROW | Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE)) != 0)
        {
            if ((inode.Seals & (Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE)) != 0) return -Errno.EPERM;
            if ((inode.Seals & Memfd.F_SEAL_GROW) != 0 && pos + (long)len > inode.Size) return -Errno.EPERM;
        }
        folio = inode.GetFolio((ulong)pos >> PageDefs.PAGE_SHIFT, create: true);
        if (folio == null) return -Errno.ENOMEM;
        if (machine.Profile.ShmemKeepsHwpoisonFolio && inode.IsHwPoison(folio))
        {
            folio = null;
            return -Errno.EIO;
        }
        return 0;
    }

    /// <summary>shmem_write_end: i_size grows to pos+copied; the folio is dirty; a short copy is accepted.</summary>
    public override long WriteEnd(KFile file, AddressSpace mapping, long pos, ulong len, ulong copied, Folio folio)
    {
        var inode = (ShmemInode)file.Inode;
        if (pos + (long)copied > inode.Size) inode.Size = pos + (long)copied;
        ShmemInode.MarkDirty(folio);
        return (long)copied;
    }

    /// <summary>
    /// shmem_error_remove_folio (5.17+, a7605426666 "mm: shmem: don't truncate page if memory failure happens", SH2):
    /// keep the poisoned folio in the page cache, so reads give −EIO and faults SIGBUS until the range is truncated or
    /// punched. Before 5.17 shmem_aops used generic_error_remove_page: the folio is truncated and the data is silently
    /// replaced by a hole (zeros).
    /// </summary>
    public override int? ErrorRemoveFolio(AddressSpace mapping, Folio folio) =>
        machine.Profile.ShmemKeepsHwpoisonFolio ? 0 : GenericErrorRemoveFolio(mapping, folio, regularFile: true);
}
