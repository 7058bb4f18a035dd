using System.Runtime.InteropServices;

namespace KernelSim.Mm;

/// <summary>
/// The arrays that hold frame bytes. A chunk starts on a plain array (the GC places and moves it; frame 0 at index 0).
/// A chunk that copies keep going through moves into its storage group (<see cref="NewGroup"/>): one pinned array for
/// <see cref="GroupChunks"/> neighbouring chunks, a page longer, the group's frame 0 at its first host page boundary and
/// each chunk at its place after it, so neighbouring busy chunks are neighbouring host memory too.
/// </summary>
/// <remarks>
/// Why page-aligned: the host copies a frame at a speed that depends on where its destination lies relative to its
/// source modulo 4 KiB (4K aliasing; docs/performance.md), so storage the GC placed anywhere made one simulated copy run
/// at different speeds in different processes. Why groups: a copy that crosses chunks then moves with one host copy
/// instead of one per chunk piece, and a host copy of 1 MiB in pieces of 32–64 KiB costs 6–15 % more than in one.
/// Why only busy chunks: pinned arrays live on the pinned object heap, which only a gen2 collection frees, so giving
/// every short-lived machine pinned storage made the GC run gen2 collections.
/// </remarks>
internal static class StorageArray
{
    /// <summary>The room a group array has beyond its chunks: up to a page, to reach the first page boundary.</summary>
    public const int Room = (int)PageDefs.PAGE_SIZE;

    /// <summary>log2 of the chunks in a storage group.</summary>
    public const int GroupShift = 4;

    /// <summary>The chunks in a storage group: 16 chunks of 64 KiB, 1 MiB.</summary>
    public const int GroupChunks = 1 << GroupShift;

    /// <summary>The frame bytes of a storage group.</summary>
    public const int GroupBytes = PhysicalMemory.ChunkBytes << GroupShift;

    private const int GroupLength = GroupBytes + Room;

    /// <summary>A plain array of <paramref name="bytes"/> (contents undefined).</summary>
    public static byte[] New(int bytes) => GC.AllocateUninitializedArray<byte>(bytes);

    /// <summary>A pinned array holding a whole storage group from <see cref="PageBase"/> on (contents undefined).</summary>
    public static byte[] NewGroup() => GC.AllocateUninitializedArray<byte>(GroupLength, pinned: true);

    /// <summary>True for an array from <see cref="NewGroup"/>.</summary>
    public static bool IsGroup(byte[] a) => a.Length == GroupLength;

    /// <summary>Where the group's frame 0 lies in <paramref name="a"/>, a group array: its first host page boundary.</summary>
    public static int PageBase(byte[] a)
    {
        System.Diagnostics.Debug.Assert(IsGroup(a), "only a group array is pinned with a page of room");
        var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(a, 0); // pinned: the address never changes
        return (int)(-address & (Room - 1));
    }
}
