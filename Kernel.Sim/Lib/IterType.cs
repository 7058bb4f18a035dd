namespace KernelSim.Lib;

/// <summary>
/// enum iter_type (include/linux/uio.h). Numeric values differ across releases; do not rely on them.
/// ITER_UBUF exists from 6.0 (see <see cref="Profiles.KernelProfile.UbufIter"/>).
/// </summary>
public enum IterType
{
    /// <summary>ITER_UBUF: a single user buffer (6.0+).</summary>
    ITER_UBUF,
    /// <summary>ITER_IOVEC: an array of user buffers (struct iovec).</summary>
    ITER_IOVEC,
    /// <summary>ITER_KVEC: an array of kernel buffers (struct kvec).</summary>
    ITER_KVEC,
    /// <summary>ITER_BVEC: an array of (page, offset, len) (struct bio_vec).</summary>
    ITER_BVEC,
    /// <summary>ITER_DISCARD: a sink that drops data (4.20+).</summary>
    ITER_DISCARD,
    /// <summary>ITER_XARRAY: pages of a page-cache xarray from a file position (≈5.13+, see <see cref="Profiles.KernelProfile.XarrayIter"/>).</summary>
    ITER_XARRAY,
    /// <summary>ITER_FOLIOQ: folios of a folio_queue (6.12+, see <see cref="Profiles.KernelProfile.FolioqIter"/>).</summary>
    ITER_FOLIOQ,
}
