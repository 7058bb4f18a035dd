using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// A debugger's view of the 64 KiB user buffer (no faults, no poison consumption): its bytes, and which pages are
/// present. One per thread, refilled for each check, so reading the buffer after every operation allocates nothing.
/// </summary>
internal sealed class UserView : IReadOnlyList<byte?>
{
    [ThreadStatic] private static UserView? _thread;

    private readonly byte[] _data = new byte[CampaignPlan.BufSize];
    private readonly bool[] _present = new bool[CampaignPlan.BufSize >> PageDefs.PAGE_SHIFT];

    /// <summary>The buffer at <paramref name="va"/> (page aligned) of <paramref name="p"/>, read page by page from its frames.</summary>
    public static UserView Of(Process p, ulong va) => Of(p, va, 0, CampaignPlan.BufSize);

    /// <summary>
    /// The buffer's pages that hold bytes of [<paramref name="from"/>, <paramref name="to"/>) (buffer offsets); the
    /// other pages read as not present (a check of a few pages need not copy all sixteen).
    /// </summary>
    public static UserView Of(Process p, ulong va, ulong from, ulong to)
    {
        if (!PageDefs.IsPageAligned(va)) throw new ArgumentException("the user buffer is page aligned", nameof(va));
        var v = _thread ??= new UserView();
        var first = (int)(from >> PageDefs.PAGE_SHIFT);
        var end = (int)Math.Min((ulong)v._present.Length, (to + PageDefs.PAGE_SIZE - 1) >> PageDefs.PAGE_SHIFT);
        for (var page = 0; page < v._present.Length; page++)
        {
            if (page < first || page >= end)
            {
                v._present[page] = false;
                continue;
            }
            var at = va + ((ulong)page << PageDefs.PAGE_SHIFT);
            var pfn = p.Mm.PfnAt(at);
            v._present[page] = pfn != null;
            if (pfn != null) p.Machine.Phys.PeekBytes(PhysAddr.FromPfn(pfn.Value), v._data.AsSpan(page << (int)PageDefs.PAGE_SHIFT, (int)PageDefs.PAGE_SIZE));
        }
        return v;
    }

    /// <summary>A view of given bytes and present pages (tests).</summary>
    internal static UserView Of(ReadOnlySpan<byte> data, ReadOnlySpan<bool> presentPages)
    {
        var v = new UserView();
        data.CopyTo(v._data);
        presentPages.CopyTo(v._present);
        return v;
    }

    /// <summary>The byte at buffer offset <paramref name="off"/>, or null where no page is present (or past the buffer).</summary>
    public byte? this[ulong off] => off < CampaignPlan.BufSize && _present[off >> PageDefs.PAGE_SHIFT] ? _data[off] : null;

    /// <inheritdoc/>
    public byte? this[int index] => this[(ulong)index];

    /// <inheritdoc/>
    public int Count => (int)CampaignPlan.BufSize;

    /// <summary>Whether the page holding buffer offset <paramref name="off"/> is present.</summary>
    public bool Present(ulong off) => _present[off >> PageDefs.PAGE_SHIFT];

    /// <summary>The bytes (meaningful where <see cref="Present"/>).</summary>
    public ReadOnlySpan<byte> Bytes => _data;

    /// <inheritdoc/>
    public IEnumerator<byte?> GetEnumerator()
    {
        for (ulong k = 0; k < CampaignPlan.BufSize; k++) yield return this[k];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
