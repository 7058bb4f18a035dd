namespace KernelSim.Mm;

/// <summary>
/// Whole pages that every machine booted from one image writes at the same physical address with the same bytes (the
/// pfn info block an earlier boot left on a namespace). <see cref="PhysicalMemory.PokeBytesShared"/> makes one on the
/// first machine; the next machines' storage reads its array instead of writing a copy, and each machine copies it on
/// its own first write there (copy-on-write), so no machine sees another's writes. Immutable once made.
/// </summary>
public sealed class SharedPages
{
    internal SharedPages(ulong pa, byte[] data, int length)
    {
        Pa = pa;
        Data = data;
        Length = length;
    }

    internal readonly ulong Pa;
    /// <summary>The chunk's bytes up to the last page written (pages before the first written one hold zeros, unread).</summary>
    internal readonly byte[] Data;
    internal readonly int Length;
}

// Sharing an image's pages between machines' frame storage (copy-on-write); see SharedPages.
public sealed partial class PhysicalMemory
{
    /// <summary>
    /// <see cref="PokeBytes"/>, and the <see cref="SharedPages"/> describing this write for the next machine of the same
    /// image. When <paramref name="previous"/> describes the same write (address and bytes) of whole pages outside DRAM in
    /// one storage chunk nothing has reached yet, the chunk shares its array instead of getting its own: the frames get
    /// their struct pages and read back exactly these bytes, as after <see cref="PokeBytes"/>.
    /// </summary>
    public SharedPages PokeBytesShared(PhysAddr pa, ReadOnlySpan<byte> data, SharedPages? previous)
    {
        var at = ChunkOffset(pa.Pfn, (int)PageDefs.OffsetInPage(pa.Value));
        var whole = at % (int)PageDefs.PAGE_SIZE == 0 && data.Length > 0 && data.Length % (int)PageDefs.PAGE_SIZE == 0
            && at + data.Length <= ChunkBytes && FindRange(pa) is { Kind: not MemoryKind.Dram };
        if (!whole || Chunk(pa.Pfn, create: false) != null)
        {
            PokeBytes(pa, data);
            return previous ?? new SharedPages(pa.Value, [], 0);
        }
        var pages = PageMask(pa.Pfn, 0, data.Length);
        if (previous == null || previous.Pa != pa.Value || previous.Length != data.Length || !data.SequenceEqual(previous.Data.AsSpan(at, data.Length)))
        {
            var bytes = new byte[at + data.Length];
            data.CopyTo(bytes.AsSpan(at));
            previous = new SharedPages(pa.Value, bytes, data.Length);
        }
        var c = Chunk(pa.Pfn, create: true)!;
        c.Data = previous.Data;
        c.Shared = true;
        c.Zeroed = pages;
        c.SharedFramesMade = pages;
        // The struct pages, in pfn order, as the writes of PokeBytes would make them.
        for (var i = 0UL; i < (ulong)(data.Length >> PageDefs.PAGE_SHIFT); i++) Frame(pa.Pfn + i);
        return previous;
    }

    /// <summary>The machine's first write to (or zeroing in) a shared chunk: its own copy of the pages reached.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Unshare(ChunkStore c)
    {
        // A pool-sized array (the shared one ends at its last written page): the pages past it are zeroed when reached.
        var d = c.NewData(c.Bytes <= SmallBytes ? SmallBytes : ChunkBytes);
        CopyReached(c, d);
        c.Data = d;
        Owned(c);
    }

    /// <summary>The chunk's array is its own now (copied or grown from the shared one).</summary>
    private static void Owned(ChunkStore c)
    {
        c.Shared = false;
        c.FramesMade = c.SharedFramesMade;
    }
}
