namespace KernelSim.Fs;

/// <summary>
/// The page cache as the buffered read paths look it up: filemap_read finds the folio at an index of
/// mapping-&gt;i_pages through this seam (filemap_get_pages → filemap_get_read_batch, mm/filemap.c), for ramfs and
/// daxfs files (<see cref="Filemap"/>) and for block devices (blkdev_read_iter). <see cref="PageCache"/> is the
/// real one; replace it in <see cref="Kernel.MachineBuilder.Services"/> to decide what a lookup returns.
/// </summary>
public interface IPageCache
{
    /// <summary>filemap_get_folio(mapping, index) (include/linux/pagemap.h): the folio cached at <paramref name="index"/>, or null.</summary>
    Folio? FilemapGetFolio(AddressSpace mapping, ulong index);
}

/// <summary>The page cache itself: a lookup returns what the mapping's xarray holds at the index.</summary>
public sealed class PageCache : IPageCache
{
    /// <inheritdoc/>
    public Folio? FilemapGetFolio(AddressSpace mapping, ulong index) => mapping.Find(index);
}
