using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs;

/// <summary>
/// struct shmem_inode_info with its vfs inode (include/linux/shmem_fs.h): a tmpfs file whose data lives only in its
/// page cache (DRAM folios marked PG_swapbacked, as shmem_alloc_folio does) and its memfd seals.
/// </summary>
public sealed class ShmemInode : Inode
{
    internal ShmemInode(TmpFs sb, ulong ino, int mode, string name) : base(sb, ino, mode)
    {
        Name = name;
        Mapping = new AddressSpace(sb.Machine.Phys, new ShmemAops(sb.Machine));
    }

    /// <summary>The dentry name ("f", or "memfd:NAME" for a memfd).</summary>
    public string Name { get; }

    /// <summary>info-&gt;seals: F_SEAL_* bits; F_SEAL_SEAL from shmem_get_inode until memfd_create(MFD_ALLOW_SEALING) clears it.</summary>
    public int Seals { get; internal set; } = Memfd.F_SEAL_SEAL;

    /// <summary>
    /// The cached folio at <paramref name="index"/>, or (<paramref name="create"/>) a new zeroed, uptodate one marked
    /// PG_swapbacked (shmem_get_folio_gfp with SGP_CACHE / SGP_WRITE); null when absent or out of memory.
    /// </summary>
    internal Folio? GetFolio(ulong index, bool create)
    {
        var mapping = Mapping!;
        var f = mapping.Find(index);
        if (f != null || !create) return f;
        f = mapping.GrabFolio(index);
        if (f == null) return null;
        Sb.Machine.Phys.Frame(f.Pfn).Flags |= PageFlags.PG_swapbacked;
        f.MarkUptodate();
        return f;
    }

    /// <summary>folio_mark_dirty on a shmem folio (memory_failure's kill decision and me_pagecache_dirty read it).</summary>
    internal static void MarkDirty(Folio folio) => folio.MarkDirty();

    /// <summary>PageHWPoison of the folio's page.</summary>
    internal bool IsHwPoison(Folio folio) => Sb.Machine.Phys.Frame(folio.Pfn).IsHwPoison;

    /// <inheritdoc/>
    public override string ToString() => $"tmpfs inode {Ino} '{Name}' size={Size} seals=0x{Seals:x}";
}
