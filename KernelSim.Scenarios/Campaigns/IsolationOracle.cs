using System.Buffers.Binary;
using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The isolation oracle: canaries (unique patterns) in memory the caller must never see — a kmalloc'd kernel page,
/// another process's pages, another file — and a scan of what the caller does see (its buffer, the data it loads,
/// its files, each return value). A canary found there is a <see cref="Outcome.Leak"/>. A canary is 16-byte units of
/// an 8-byte magic followed by a tag word (0xC0DE in the top 16 bits, the area, the unit's index), so any leak of 23
/// or more contiguous bytes holds a whole magic, and a returned tag or magic word is recognised as such.
/// </summary>
internal static class IsolationOracle
{
    /// <summary>The magic, "KsCanary" in ASCII.</summary>
    public const ulong Magic = 0x7972_616E_6143_734B;

    /// <summary>Canary areas (the tag's area byte).</summary>
    public const byte Kernel = 1, OtherProcess = 2, OtherFile = 3;

    private static readonly byte[] MagicBytes = BitConverter.GetBytes(Magic);

    // The canaries the hostile workload plants in every run, made once (read only: each is copied where it is planted).
    private static readonly byte[] KernelPage = Pattern(Kernel, (int)PageDefs.PAGE_SIZE);
    private static readonly byte[] OtherFilePage = Pattern(OtherFile, (int)PageDefs.PAGE_SIZE);
    private static readonly byte[] OtherProcessPages = Pattern(OtherProcess, 8192);

    /// <summary><see cref="Pattern"/>, read only: the sizes planted in every hostile run come from arrays made once.</summary>
    public static ReadOnlySpan<byte> PatternOf(byte area, int len) => (area, len) switch
    {
        (Kernel, 4096) => KernelPage,
        (OtherFile, 4096) => OtherFilePage,
        (OtherProcess, 8192) => OtherProcessPages,
        _ => Pattern(area, len),
    };

    /// <summary>The canary of <paramref name="area"/>, <paramref name="len"/> bytes (a multiple of 16).</summary>
    public static byte[] Pattern(byte area, int len)
    {
        var b = new byte[len];
        for (var i = 0; i + 16 <= len; i += 16)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(i), Magic);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(i + 8), Tag(area, (ulong)i / 16));
        }
        return b;
    }

    private static ulong Tag(byte area, ulong index) => 0xC0DEUL << 48 | (ulong)area << 40 | index;

    /// <summary>The area a canary word belongs to ("kernel memory", …), or null when the value is no canary word.</summary>
    public static string? WordArea(ulong v) => v == Magic ? "a canary" : v >> 48 == 0xC0DE ? AreaName((byte)(v >> 40)) : null;

    private static string AreaName(byte area) => area switch
    {
        Kernel => "kernel memory",
        OtherProcess => "another process",
        OtherFile => "another file",
        _ => "a canary",
    };

    /// <summary>The first canary in <paramref name="data"/>: its offset and area, or null.</summary>
    public static (int Offset, string Area)? Find(ReadOnlySpan<byte> data)
    {
        var at = data.IndexOf(MagicBytes);
        if (at < 0) return null;
        var area = at + 16 <= data.Length ? WordArea(BinaryPrimitives.ReadUInt64LittleEndian(data[(at + 8)..])) ?? "a canary" : "a canary";
        return (at, area);
    }

    /// <summary>A kmalloc'd kernel page holding the kernel canary; its address.</summary>
    public static KernelPtr PlaceInKernel(Machine m)
    {
        var k = m.Kmalloc(PageDefs.PAGE_SIZE) ?? throw new InvalidOperationException("setup: kmalloc of the kernel canary failed");
        m.Phys.PokeBytes(m.KernelMap.Pa(k)!.Value, PatternOf(Kernel, (int)PageDefs.PAGE_SIZE));
        return k;
    }

    /// <summary>
    /// The first canary in the mapped pages of the user range [<paramref name="va"/>, +<paramref name="len"/>) of
    /// <paramref name="p"/>, read from the frames without faulting (unmapped pages are skipped): offset from
    /// <paramref name="va"/> and area, or null.
    /// </summary>
    public static (int Offset, string Area)? FindInUser(Process p, ulong va, ulong len)
    {
        Span<byte> page = stackalloc byte[(int)PageDefs.PAGE_SIZE + 16];
        var carry = 0;
        for (var at = va & ~(PageDefs.PAGE_SIZE - 1); at < va + len; at += PageDefs.PAGE_SIZE)
        {
            if (p.Mm.PfnAt(at) is not { } pfn)
            {
                carry = 0;
                continue;
            }
            // Keep the last 15 bytes of the previous page so a canary across the boundary is found.
            if (carry > 0) page[(int)PageDefs.PAGE_SIZE..(int)(PageDefs.PAGE_SIZE + (ulong)carry)].CopyTo(page);
            p.Machine.Phys.PeekBytes(new PhysAddr(pfn << PageDefs.PAGE_SHIFT), page.Slice(carry, (int)PageDefs.PAGE_SIZE));
            if (Find(page[..(carry + (int)PageDefs.PAGE_SIZE)]) is { } f) return ((int)((long)at - (long)va) + f.Offset - carry, f.Area);
            page.Slice(carry + (int)PageDefs.PAGE_SIZE - 15, 15).CopyTo(page[(int)PageDefs.PAGE_SIZE..]);
            carry = 15;
        }
        return null;
    }

    /// <summary>
    /// The first canary in physical memory [<paramref name="pa"/>, +<paramref name="len"/>) (page aligned), read page by
    /// page; frames never written hold zeros and are skipped: offset from <paramref name="pa"/> and area, or null.
    /// </summary>
    public static (int Offset, string Area)? FindInPhys(PhysicalMemory phys, ulong pa, ulong len)
    {
        Span<byte> page = stackalloc byte[(int)PageDefs.PAGE_SIZE + 16];
        var carry = 0;
        for (var at = pa; at < pa + len; at += PageDefs.PAGE_SIZE)
        {
            if (phys.Peek(at >> PageDefs.PAGE_SHIFT) == null)
            {
                carry = 0;
                continue;
            }
            if (carry > 0) page[(int)PageDefs.PAGE_SIZE..(int)(PageDefs.PAGE_SIZE + (ulong)carry)].CopyTo(page);
            phys.PeekBytes(new PhysAddr(at), page.Slice(carry, (int)PageDefs.PAGE_SIZE));
            if (Find(page[..(carry + (int)PageDefs.PAGE_SIZE)]) is { } f) return ((int)(at - pa) + f.Offset - carry, f.Area);
            page.Slice(carry + (int)PageDefs.PAGE_SIZE - 15, 15).CopyTo(page[(int)PageDefs.PAGE_SIZE..]);
            carry = 15;
        }
        return null;
    }
}
