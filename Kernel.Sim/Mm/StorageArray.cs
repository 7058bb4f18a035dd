using System.Runtime.InteropServices;

namespace KernelSim.Mm;

/// <summary>
/// The arrays that hold frame bytes. A chunk starts on a plain array (the GC places and moves it; frame 0 at index 0).
/// A chunk that copies keep going through is moved to a page-aligned one for the whole chunk (<see cref="NewAligned"/>):
/// pinned, a page longer, frame 0 at its first host page boundary. The host copies a frame at a speed that depends on where its
/// destination lies relative to its source modulo 4 KiB (4K aliasing; docs/performance.md), so storage the GC placed
/// anywhere made one simulated copy run at different speeds in different processes. Only busy chunks move: pinned
/// arrays live on the pinned object heap, which only a gen2 collection frees, so giving every short-lived machine
/// pinned storage made the GC run gen2 collections.
/// </summary>
internal static class StorageArray
{
    /// <summary>The room a page-aligned array has beyond the chunk: up to a page, to reach the first page boundary.</summary>
    public const int Room = (int)PageDefs.PAGE_SIZE;

    private const int AlignedLength = PhysicalMemory.ChunkBytes + Room;

    /// <summary>A plain array of <paramref name="bytes"/> (contents undefined).</summary>
    public static byte[] New(int bytes) => GC.AllocateUninitializedArray<byte>(bytes);

    /// <summary>A pinned array holding a whole chunk from <see cref="PageBase"/> on (contents undefined).</summary>
    public static byte[] NewAligned() => GC.AllocateUninitializedArray<byte>(AlignedLength, pinned: true);

    /// <summary>True for an array from <see cref="NewAligned"/>.</summary>
    public static bool IsAligned(byte[] a) => a.Length == AlignedLength;

    /// <summary>Where frame 0 lies in <paramref name="a"/>: its first host page boundary if page-aligned, else 0.</summary>
    public static int PageBase(byte[] a)
    {
        if (!IsAligned(a)) return 0;
        var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(a, 0); // pinned: the address never changes
        return (int)(-address & (Room - 1));
    }

    /// <summary>The frame bytes <paramref name="a"/> holds.</summary>
    public static int Bytes(byte[] a) => IsAligned(a) ? PhysicalMemory.ChunkBytes : a.Length;
}
