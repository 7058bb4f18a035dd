using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// fuse_iomap_ops (fs/fuse/dax.c fuse_iomap_begin / fuse_iomap_end): map a file position to the window. Finds the
/// range in the inode tree (upgrading a read-only one for writes with a SETUPMAPPING on the same moffset), or
/// allocates one and sends SETUPMAPPING {fh −1, foffset idx·2 MiB, len 2 MiB, READ[|WRITE], moffset}; a position at
/// or past the cached i_size with no range is a hole. The mapping never crosses a 2 MiB boundary nor the cached
/// i_size.
/// </summary>
public sealed class FuseIomapOps : IIomapOps
{
    internal FuseIomapOps(FuseConnDax dax) => Dax = dax;

    /// <summary>The connection's range pool.</summary>
    public FuseConnDax Dax { get; }

    /// <inheritdoc/>
    public int IomapBegin(Inode inode, long pos, long length, IomapOpFlags flags, Iomap iomap)
    {
        var fi = (FuseInode)inode;
        var writable = (flags & IomapOpFlags.IOMAP_WRITE) != 0;
        if ((flags & IomapOpFlags.IOMAP_REPORT) != 0) return -Errno.EIO; // FIEMAP: WARN_ON + -EIO
        iomap.Offset = pos;
        iomap.Flags = IomapFlags.None;
        iomap.DaxDev = Dax.Dev;
        var idx = (ulong)pos >> FuseConst.FUSE_DAX_SHIFT;
        if (fi.Tree.TryGetValue(idx, out var d))
        {
            if (writable && !d.Writable)
            {
                // fuse_upgrade_dax_mapping: pin, take the semaphore exclusive, re-find, upgrade on the same moffset.
                d.Refcnt++;
                d.Refcnt--;
                if (!fi.Tree.TryGetValue(idx, out var again) || again != d) return -Errno.EIO;
                if (!d.Writable)
                {
                    var r = SetupOneMapping(fi, idx, d, writable: true, upgrade: true);
                    if (r < 0) return r;
                }
            }
            FillIomap(fi, pos, length, iomap, d, flags);
            return 0;
        }
        if (pos >= fi.Size)
        {
            FillHole(iomap, length);
            return 0;
        }
        return SetupNewDaxMapping(fi, pos, length, flags, iomap);
    }

    /// <summary>fuse_setup_new_dax_mapping: fault path never reclaims (−EAGAIN), read/write may reclaim or sleep.</summary>
    private int SetupNewDaxMapping(FuseInode fi, long pos, long length, IomapOpFlags flags, Iomap iomap)
    {
        var writable = (flags & IomapOpFlags.IOMAP_WRITE) != 0;
        DaxMapping? alloc;
        if ((flags & IomapOpFlags.IOMAP_FAULT) != 0)
        {
            alloc = Dax.Alloc();
            if (alloc == null) return -Errno.EAGAIN;
        }
        else
        {
            alloc = Dax.AllocReclaim(fi);
        }
        var idx = (ulong)pos >> FuseConst.FUSE_DAX_SHIFT;
        if (fi.Tree.TryGetValue(idx, out var existing))
        {
            FillIomap(fi, pos, length, iomap, existing, flags);
            Dax.AddToFreePool(alloc);
            return 0;
        }
        var r = SetupOneMapping(fi, idx, alloc, writable, upgrade: false);
        if (r < 0)
        {
            Dax.AddToFreePool(alloc);
            return r;
        }
        FillIomap(fi, pos, length, iomap, alloc, flags);
        return 0;
    }

    /// <summary>fuse_setup_one_mapping: SETUPMAPPING for range idx on dmap's window offset; inserts it unless upgrading.</summary>
    private int SetupOneMapping(FuseInode fi, ulong idx, DaxMapping d, bool writable, bool upgrade)
    {
        var flags = FuseConst.FUSE_SETUPMAPPING_FLAG_READ | (writable ? FuseConst.FUSE_SETUPMAPPING_FLAG_WRITE : 0);
        var args = FuseWire.SetupMappingIn(stackalloc byte[FuseConst.SetupMappingInSize], ulong.MaxValue, idx << FuseConst.FUSE_DAX_SHIFT, FuseConst.FUSE_DAX_SZ, flags, d.WindowOffset);
        var err = Dax.Conn.Request(FuseOpcode.FUSE_SETUPMAPPING, fi.NodeId, args, out _);
        if (err < 0) return err;
        d.Writable = writable;
        if (!upgrade)
        {
            d.Inode = fi;
            d.Index = idx;
            fi.Tree[idx] = d;
            Dax.AddBusy(d);
        }
        return 0;
    }

    /// <summary>fuse_fill_iomap: clamp to the range and to i_size; MAPPED (ref++) or a hole.</summary>
    private void FillIomap(FuseInode fi, long pos, long length, Iomap iomap, DaxMapping d, IomapOpFlags flags)
    {
        var offset = (ulong)pos - (d.Index << FuseConst.FUSE_DAX_SHIFT);
        var len = (long)Math.Min((ulong)length, d.Length - offset);
        if (pos + len > fi.Size) len = fi.Size - pos;
        if (len > 0)
        {
            iomap.Addr = d.WindowOffset + offset;
            iomap.Length = (ulong)len;
            if ((flags & IomapOpFlags.IOMAP_FAULT) != 0) iomap.Length = Mm.PageDefs.PageAlign((ulong)len);
            iomap.Type = IomapType.IOMAP_MAPPED;
            d.Refcnt++;
            iomap.Private = d;
        }
        else
        {
            FillHole(iomap, length);
        }
    }

    private static void FillHole(Iomap iomap, long length)
    {
        iomap.Addr = Iomap.NullAddr;
        iomap.Length = (ulong)length;
        iomap.Type = IomapType.IOMAP_HOLE;
    }

    /// <inheritdoc/>
    public int IomapEnd(Inode inode, long pos, long length, long written, IomapOpFlags flags, Iomap iomap)
    {
        if (iomap.Private is DaxMapping d)
        {
            d.Refcnt--;
            iomap.Private = null;
        }
        return 0;
    }
}
