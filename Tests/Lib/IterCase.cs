using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>What sits at the hole of an <see cref="IterCase"/>.</summary>
public enum Hole
{
    /// <summary>No hole.</summary>
    None,
    /// <summary>The page is unmapped (no VMA).</summary>
    Unmapped,
    /// <summary>The page is mapped PROT_READ.</summary>
    ReadOnly,
}

/// <summary>
/// An iterator of a given type over segments of given lengths, with its buffers laid out so that a hole
/// (unmapped or read-only page) can start at any offset of any segment. UBUF uses one buffer of the total
/// length (segment boundaries are only offsets into it). Iterator-side bytes are pattern (i*13+5) over the
/// concatenation for a source, 0xEE for a destination.
/// </summary>
public sealed class IterCase
{
    public const byte DestFill = 0xEE;
    public const uint BvecOffset = 0xff0; // bvecs start 16 bytes before a page end, so steps split per page

    public Machine M { get; }
    public Process P { get; }
    public IovIterOps Ops => M.IovIter;
    public IterType Type { get; }
    public ulong[] Lens { get; }
    public ulong Total { get; }
    /// <summary>Per segment (UBUF: the single buffer) the user or kernel virtual address of its first byte.</summary>
    public ulong[] Addr { get; }
    public IovIter Iter { get; }

    public static byte SrcPattern(ulong i) => (byte)(i * 13 + 5);
    public static byte KernelPattern(ulong i) => (byte)(i * 7 + 1);

    public IterCase(IterType type, bool source, ulong[] lens, string kernel = "6.12", CpuModel? cpu = null,
        int holeSeg = -1, ulong holeOff = 0, Hole hole = Hole.None, bool fill = true)
    {
        M = Sim.Boot(kernel, cpu);
        P = M.Spawn();
        Type = type;
        Lens = lens;
        ulong total = 0;
        foreach (var l in lens) total += l;
        Total = total;
        var bufs = type == IterType.ITER_UBUF ? [total] : lens;
        Addr = new ulong[bufs.Length];
        ulong before = 0;
        for (var k = 0; k < bufs.Length; k++)
        {
            var len = bufs[k];
            var hk = type == IterType.ITER_UBUF ? (holeSeg >= 0 ? 0 : -1) : holeSeg;
            var hoff = type == IterType.ITER_UBUF && holeSeg >= 0 ? Prefix(holeSeg) + holeOff : holeOff;
            if (type is IterType.ITER_UBUF or IterType.ITER_IOVEC)
            {
                var region = P.MapAnonymous(PageDefs.PageAlign(len) + 3 * PageDefs.PAGE_SIZE);
                var holePage = region.Value + 2 * PageDefs.PAGE_SIZE;
                var at = hole != Hole.None && hk == k ? holePage - hoff : region.Value + PageDefs.PAGE_SIZE + 0x100;
                Addr[k] = at;
                var b = before;
                if (fill && len > 0) P.Fill(new UserPtr(at), len, i => source ? SrcPattern(b + i) : DestFill);
                if (hole != Hole.None && hk == k)
                {
                    var r = hole == Hole.Unmapped
                        ? P.Munmap(holePage, PageDefs.PAGE_SIZE)
                        : P.Mprotect(holePage, PageDefs.PAGE_SIZE, Mman.PROT_READ);
                    if (r != 0) throw new InvalidOperationException("hole setup failed");
                }
            }
            else
            {
                var off = type == IterType.ITER_BVEC ? BvecOffset : 0UL;
                var kp = M.Kmalloc(off + Math.Max(len, 1)) ?? throw new InvalidOperationException("oom");
                Addr[k] = kp.Value + off;
                var data = new byte[len];
                for (ulong i = 0; i < len; i++) data[i] = source ? SrcPattern(before + i) : DestFill;
                M.Phys.PokeBytes(M.KernelMap.Pa(new KernelPtr(Addr[k]))!.Value, data);
            }
            before += len;
        }
        Iter = type switch
        {
            IterType.ITER_UBUF => IovIter.Ubuf(source, new UserPtr(Addr[0]), total),
            IterType.ITER_IOVEC => IovIter.Iovec(source, Seg(k => new Iovec(new UserPtr(Addr[k]), lens[k])), total),
            IterType.ITER_KVEC => IovIter.Kvec(source, Seg(k => new Kvec(new KernelPtr(Addr[k]), lens[k])), total),
            IterType.ITER_BVEC => IovIter.Bvec(source, Seg(k => new BioVec(Pfn(Addr[k] - BvecOffset), BvecOffset, (uint)lens[k])), total),
            _ => IovIter.Discard(total),
        };
    }

    private T[] Seg<T>(Func<int, T> f)
    {
        var a = new T[Lens.Length];
        for (var k = 0; k < a.Length; k++) a[k] = f(k);
        return a;
    }

    private ulong Pfn(ulong kva) => M.KernelMap.Pa(new KernelPtr(kva))!.Value.Pfn;

    /// <summary>Sum of the lengths of segments before k.</summary>
    public ulong Prefix(int k)
    {
        ulong s = 0;
        for (var j = 0; j < k; j++) s += Lens[j];
        return s;
    }

    /// <summary>The iterator-side bytes, concatenated over segments (null where unmapped).</summary>
    public byte?[] Bytes()
    {
        var all = new List<byte?>();
        var bufs = Type == IterType.ITER_UBUF ? [Total] : Lens;
        for (var k = 0; k < bufs.Length; k++)
        {
            if (Type is IterType.ITER_UBUF or IterType.ITER_IOVEC) all.AddRange(P.Peek(new UserPtr(Addr[k]), (int)bufs[k]));
            else
            {
                var b = new byte[bufs[k]];
                M.Phys.PeekBytes(M.KernelMap.Pa(new KernelPtr(Addr[k]))!.Value, b);
                foreach (var x in b) all.Add(x);
            }
        }
        return all.ToArray();
    }

    /// <summary>Run kernel code in the process's context and return its value (fails the test if it did not return).</summary>
    public T Run<T>(Func<T> body)
    {
        var r = M.Run(P, "test", body);
        Assert.That(r.Returned, Is.True, r.Outcome);
        return r.Value;
    }

    /// <summary>
    /// Pin count, iov_offset, nr_segs and segment index. For UBUF the segment arguments are ignored: nr_segs is 1,
    /// the index 0 and iov_offset the bytes consumed from a fresh iterator (Total − count).
    /// </summary>
    public void AssertState(ulong count, int seg, ulong off, ulong nrSegs, string? because = null)
    {
        if (Type == IterType.ITER_UBUF) off = Total - count;
        Assert.Multiple(() =>
        {
            Assert.That(Iter.Count, Is.EqualTo(count), "count " + because);
            Assert.That(Iter.IovOffset, Is.EqualTo(off), "iov_offset " + because);
            Assert.That(Iter.NrSegs, Is.EqualTo(Type == IterType.ITER_UBUF ? 1UL : nrSegs), "nr_segs " + because);
            Assert.That(Iter.SegIndex, Is.EqualTo(Type == IterType.ITER_UBUF ? 0 : seg), "segment index " + because);
        });
    }
}
