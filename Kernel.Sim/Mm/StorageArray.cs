using System.Runtime.InteropServices;

namespace KernelSim.Mm;

/// <summary>
/// The arrays that hold frame bytes (<see cref="PhysicalMemory"/>'s storage chunks, the zero chunk, a machine image's
/// shared pages): pinned, with a page of room, their frames starting at the array's first host page boundary. The host
/// copies a frame at a speed that depends on where its destination lies relative to its source modulo 4 KiB (4K
/// aliasing: a 64 KiB copy whose destination is 8 bytes past its source took 14 times as long on the AMD host of the
/// fourteenth round; docs/performance.md), so storage the GC placed anywhere made one simulated copy run at different
/// speeds in different processes. Page-aligned frames copy at the offsets a native page copy has, in every process.
/// </summary>
internal static class StorageArray
{
    /// <summary>The room an array has beyond the bytes it holds: up to a page, to reach the first page boundary.</summary>
    public const int Room = (int)PageDefs.PAGE_SIZE;

    /// <summary>A pinned array holding <paramref name="bytes"/> page-aligned bytes from <see cref="PageBase"/> on, contents undefined.</summary>
    public static byte[] New(int bytes) => GC.AllocateUninitializedArray<byte>(bytes + Room, pinned: true);

    /// <summary><see cref="New"/>, all zeros.</summary>
    public static byte[] NewZeroed(int bytes) => GC.AllocateArray<byte>(bytes + Room, pinned: true);

    /// <summary>Where the bytes of an array from <see cref="New"/> start: its first host page boundary (0 for an empty array).</summary>
    public static int PageBase(byte[] a)
    {
        if (a.Length == 0) return 0;
        var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(a, 0); // pinned: the address never changes
        return (int)(-address & (Room - 1));
    }

    /// <summary>The bytes an array from <see cref="New"/> holds (0 for an empty array).</summary>
    public static int Bytes(byte[] a) => a.Length == 0 ? 0 : a.Length - Room;
}
