using KernelSim.Mm;

namespace KernelSim.Lib;

/// <summary>struct iovec (include/uapi/linux/uio.h): a user buffer; 16 bytes in user memory (base, len).</summary>
/// <param name="Base">iov_base.</param>
/// <param name="Len">iov_len.</param>
public readonly record struct Iovec(UserPtr Base, ulong Len)
{
    /// <summary>sizeof(struct iovec) on x86-64.</summary>
    public const int Size = 16;
}

/// <summary>struct kvec (include/linux/uio.h): a kernel buffer.</summary>
/// <param name="Base">iov_base.</param>
/// <param name="Len">iov_len.</param>
public readonly record struct Kvec(KernelPtr Base, ulong Len);

/// <summary>
/// struct bio_vec (include/linux/bvec.h): a run of bytes in physically contiguous pages starting at
/// page frame <paramref name="Pfn"/>, <paramref name="Offset"/> bytes in (may exceed PAGE_SIZE for a
/// multi-page bvec). Iteration steps never cross a page boundary.
/// </summary>
/// <param name="Pfn">bv_page as a page frame number.</param>
/// <param name="Offset">bv_offset.</param>
/// <param name="Len">bv_len.</param>
public readonly record struct BioVec(ulong Pfn, uint Offset, uint Len);

/// <summary>struct iov_iter_state (iov_iter_save_state): iov_offset, count and nr_segs.</summary>
/// <param name="IovOffset">Saved iov_offset.</param>
/// <param name="Count">Saved count.</param>
/// <param name="NrSegs">Saved nr_segs.</param>
public readonly record struct IovIterState(ulong IovOffset, ulong Count, ulong NrSegs);
