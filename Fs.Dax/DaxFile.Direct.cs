using KernelSim.Block;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Dax;

public sealed partial class DaxFile
{
    /// <summary>
    /// iomap_dio_rw for a dax=never mount (fs/iomap/direct-io.c in spirit): position, length and user buffer must
    /// be 512-byte aligned (−EINVAL); dirty cached pages of the range are written back first; each mapping is
    /// either zero-filled into the iterator (holes and unwritten extents on reads) or turned into bios built from
    /// the pinned user pages (iov_iter_get_pages2). Any failed bio fails the whole call with its errno (−EIO): no
    /// partial count. Reads stop at i_size; writes allocate (zeroed) blocks and extend i_size.
    /// </summary>
    internal long DirectIo(Kiocb iocb, IovIter iter)
    {
        var m = Fs.Machine;
        using var fn = m.Tracer.Fn("iomap_dio_rw", "fs");
        var write = iter.DataSource;
        var bdev = Fs.Bdev;
        if (bdev == null) return -Errno.EINVAL;
        var iov = m.IovIter;
        var pos = iocb.Pos;
        var count = iter.Count;
        if (count == 0) return 0;
        if ((((ulong)pos | count | iov.Alignment(iter)) & (BlockDevice.SECTOR_SIZE - 1)) != 0) return -Errno.EINVAL;
        var size = DInode.Size;
        if (!write)
        {
            if (pos >= size) return 0;
            var lim = (ulong)((size - pos + BlockDevice.SECTOR_SIZE - 1) & ~(long)(BlockDevice.SECTOR_SIZE - 1));
            if (count > lim)
            {
                iov.Truncate(iter, lim);
                count = lim;
            }
        }
        var wb = Fs.WritebackRange(DInode, pos, pos + (long)count - 1);
        if (wb < 0) return wb;
        var flags = IomapOpFlags.IOMAP_DIRECT | (write ? IomapOpFlags.IOMAP_WRITE : IomapOpFlags.None);
        if (iocb.Has(Kiocb.IOCB_NOWAIT)) flags |= IomapOpFlags.IOMAP_NOWAIT;
        var it = new IomapIter(DInode, pos, (long)count, flags);
        var dioError = 0;
        int ret;
        while ((ret = it.Next(Fs.IomapOps)) > 0)
        {
            var iomap = it.Iomap;
            var length = it.Length;
            if (!write && iomap.Type is IomapType.IOMAP_HOLE or IomapType.IOMAP_UNWRITTEN)
            {
                var z = (long)iov.IovIterZero((ulong)length, iter);
                it.Processed = z == 0 ? -Errno.EFAULT : z;
                continue;
            }
            long done = 0;
            var sector = (long)((iomap.Addr + (ulong)(it.Pos - iomap.Offset)) >> BlockDevice.SECTOR_SHIFT);
            while (done < length)
            {
                var before = iter.Count;
                var got = iov.GetPages2(iter, (ulong)(length - done), Bio.BIO_MAX_VECS, out var pages, out var start);
                if (got <= 0)
                {
                    if (done == 0) done = got < 0 ? got : -Errno.EFAULT;
                    break;
                }
                if (iter.Count == before) iov.Advance(iter, (ulong)got);
                var bio = new Bio(bdev, write ? BioOp.REQ_OP_WRITE : BioOp.REQ_OP_READ, sector);
                var left = (ulong)got;
                var off = start;
                foreach (var pfn in pages)
                {
                    var n = Math.Min(left, PageDefs.PAGE_SIZE - off);
                    bio.AddPage(pfn, (uint)n, (uint)off);
                    left -= n;
                    off = 0;
                    if (left == 0) break;
                }
                var st = bdev.SubmitBioWait(bio);
                if (st < 0 && dioError == 0) dioError = st;
                sector += got >> BlockDevice.SECTOR_SHIFT;
                done += got;
            }
            it.Processed = done;
        }
        var total = it.Pos - pos;
        if (dioError != 0) return dioError;
        if (total == 0) return ret;
        if (write)
        {
            Fs.InvalidatePagecache(DInode, pos, pos + total);
            if (pos + total > DInode.Size)
            {
                DInode.Size = pos + total;
                DInode.MetadataDirty = true;
            }
        }
        else if (pos + total > size)
        {
            total = size - pos;
        }
        iocb.Pos = pos + total;
        return total;
    }
}
