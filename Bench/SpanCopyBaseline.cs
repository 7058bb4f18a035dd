using System.Runtime.InteropServices;

namespace KernelSim.Bench;

/// <summary>
/// The host baseline of the copy benchmarks: <c>Span&lt;byte&gt;.CopyTo</c> of <c>size</c> bytes between two
/// page-aligned buffers (pinned arrays used from their first page boundary), the source filled with random bytes. Page-aligned because a copy's speed depends on
/// where its destination lies relative to its source: on the AMD EPYC host of the thirteenth round a 4 KiB copy whose
/// destination is 16–24 bytes past a multiple of 4 096 from its source took 105–114 ns instead of 47 ns (4K aliasing),
/// and two managed arrays allocated one after the other sit exactly there (4 120 bytes apart), which had made the
/// baseline of two benchmark classes twice as slow as that of the others. The simulated copies move whole frames, whose
/// offsets within their pages are equal, so equal page offsets are the like-for-like baseline.
/// </summary>
internal sealed class SpanCopyBaseline
{
    private const int Page = 4096;
    private readonly byte[] _src, _dst;
    private readonly int _srcOff, _dstOff, _size;

    public SpanCopyBaseline(int size)
    {
        _size = size;
        (_src, _srcOff) = Aligned(size);
        (_dst, _dstOff) = Aligned(size);
        new Random(1).NextBytes(_src.AsSpan(_srcOff, size));
    }

    /// <summary>A pinned array (the pinned object heap never moves it) and the offset of its first page boundary.</summary>
    private static (byte[] Array, int Offset) Aligned(int size)
    {
        var a = GC.AllocateArray<byte>(size + Page, pinned: true);
        var h = GCHandle.Alloc(a, GCHandleType.Pinned);
        var addr = (long)h.AddrOfPinnedObject();
        h.Free();
        return (a, (int)((Page - (addr & (Page - 1))) & (Page - 1)));
    }

    /// <summary>Copy the source to the destination; the destination's first byte (so the copy is not dead code).</summary>
    public int Copy()
    {
        MemoryMarshal.CreateReadOnlySpan(ref _src[_srcOff], _size).CopyTo(MemoryMarshal.CreateSpan(ref _dst[_dstOff], _size));
        return _dst[_dstOff];
    }
}
