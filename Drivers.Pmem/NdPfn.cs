using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The fsdax / devdax info block on the media (drivers/nvdimm/pfn_devs.c nd_pfn_validate, nd_pfn_init,
/// nd_pfn_clear_memmap_errors, __nvdimm_setup_pfn), read and written through the namespace's nsio_rw_bytes (<see cref="Nsio"/>).
/// </summary>
public sealed partial class NvdimmBus
{
    /// <summary>memremap_compat_align() on x86: SUBSECTION_SIZE, 2 MiB.</summary>
    public const ulong MemremapCompatAlign = 2UL << 20;

    /// <summary>nd_pfn_supported_alignments on x86-64 with THP and PUD THP: 4 KiB, 2 MiB, 1 GiB.</summary>
    public static readonly ulong[] SupportedAlignments = [PageDefs.PAGE_SIZE, 2UL << 20, 1UL << 30];

    private KernelPtr? _bounce;
    // The zero page nd_pfn_clear_memmap_errors writes over bad sectors; only ever read (copied into the bounce buffer).
    private static readonly byte[] ZeroBlock = new byte[PageDefs.PAGE_SIZE];
    // One per host thread, not per machine: every use fills it entirely (a read of the whole block, or PfnSb.WriteTo,
    // which clears it) and is done with it before returning, so no machine state lives in it.
    [ThreadStatic] private static byte[]? _infoBlock;

    /// <summary>Host-side room for one info block being encoded or checked (the probe reads and writes one at a time).</summary>
    internal static Span<byte> InfoBlockScratch => _infoBlock ??= new byte[PfnSb.Size];

    private KernelPtr Bounce => _bounce ??= Machine.Kmalloc(PfnSb.Size) ?? throw new InvalidOperationException("out of memory for the nsio buffer");

    /// <summary>
    /// nvdimm_read_bytes: the namespace's nsio_rw_bytes (<see cref="Nsio.RwBytes"/>, enabled by the probe) into a kernel
    /// buffer, copied out to <paramref name="buf"/> (at most one info block at a time). 0 or what nsio_rw_bytes returned.
    /// </summary>
    private int NsRead(NdNamespace ns, ulong offset, Span<byte> buf)
    {
        var rc = ns.Io!.RwBytes(offset, Bounce, (ulong)buf.Length, write: false, NvdimmIoFlags.None);
        if (rc == 0) Machine.Phys.PeekBytes(Machine.KernelMap.Pa(Bounce)!.Value, buf);
        return rc;
    }

    /// <summary>nvdimm_write_bytes (flags 0): <paramref name="buf"/> through a kernel buffer to nsio_rw_bytes.</summary>
    private int NsWrite(NdNamespace ns, ulong offset, ReadOnlySpan<byte> buf)
    {
        Machine.Phys.PokeBytes(Machine.KernelMap.Pa(Bounce)!.Value, buf);
        return ns.Io!.RwBytes(offset, Bounce, (ulong)buf.Length, write: true, NvdimmIoFlags.None);
    }

    private void PfnErr(NdClaim c, string msg) => Machine.State.Printk($"nd_pmem {c.Name}: {msg}");

    /// <summary>
    /// nd_pfn_validate(nd_pfn, sig): read the block at SZ_4K (failure → −ENXIO); signature, checksum or parent_uuid
    /// mismatch → −ENODEV (no info block); older minor versions get their later fields defaulted; a mode other than
    /// ram/pmem → −ENXIO; page_size above PAGE_SIZE or page_struct_size below 64 in pmem mode, an unsupported align on a
    /// DAX block, settings that differ from a claim device that has a uuid (uuid mismatch → −ENODEV), align above the
    /// capacity, dataoff past the namespace, a misaligned data start or resource, a data offset leaving nothing →
    /// −EOPNOTSUPP, each with the kernel's message.
    /// </summary>
    internal int PfnValidate(NdClaim c, out PfnSb? sb)
    {
        sb = null;
        var ns = c.Ns;
        if (ns == null) return -Errno.ENODEV;
        var raw = InfoBlockScratch;
        if (NsRead(ns, PfnSb.Offset, raw) != 0) return -Errno.ENXIO;
        var s = PfnSb.Parse(raw);
        if (s.Signature != c.Signature) return -Errno.ENODEV;
        if (s.Checksum != PfnSb.SbChecksum(raw)) return -Errno.ENODEV;
        if (!s.ParentUuid.AsSpan().SequenceEqual(ns.ParentUuid)) return -Errno.ENODEV;
        if (s.VersionMinor < 1) s.StartPad = s.EndTrunc = 0;
        if (s.VersionMinor < 2) s.Align = 0;
        if (s.VersionMinor < 4)
        {
            s.PageStructSize = 64;
            s.PageSize = (uint)PageDefs.PAGE_SIZE;
        }
        if (s.Mode is not (NdPfnMode.PFN_MODE_RAM or NdPfnMode.PFN_MODE_PMEM)) return -Errno.ENXIO;
        ulong align = s.Align;
        var offset = s.DataOff;
        if (align == 0) align = offset == 0 ? 0 : 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(offset));
        if (s.PageSize > PageDefs.PAGE_SIZE && s.Mode == NdPfnMode.PFN_MODE_PMEM)
        {
            PfnErr(c, $"init failed, page size mismatch {s.PageSize}");
            return -Errno.EOPNOTSUPP;
        }
        if (s.PageStructSize < 64 && s.Mode == NdPfnMode.PFN_MODE_PMEM)
        {
            PfnErr(c, $"init failed, struct page size mismatch {s.PageStructSize}");
            return -Errno.EOPNOTSUPP;
        }
        if (!SupportedAlignments.Contains(align) && s.Signature == PfnSb.DAX_SIG)
        {
            PfnErr(c, $"init failed, alignment mismatch: {c.Align}:{align}");
            return -Errno.EOPNOTSUPP;
        }
        if (c.Uuid == null)
        {
            c.Uuid = (byte[])s.Uuid.Clone();
            c.Align = align;
            c.Mode = s.Mode;
        }
        else
        {
            if (!c.Uuid.AsSpan().SequenceEqual(s.Uuid)) return -Errno.ENODEV;
            if (c.Align != align || c.Mode != s.Mode)
            {
                PfnErr(c, "init failed, settings mismatch");
                return -Errno.EOPNOTSUPP;
            }
        }
        if (align > ns.Size)
        {
            PfnErr(c, $"alignment: {align:x} exceeds capacity {ns.Size:x}");
            return -Errno.EOPNOTSUPP;
        }
        if (offset >= ns.Size)
        {
            PfnErr(c, $"pfn array size exceeds capacity of {ns.Name}");
            return -Errno.EOPNOTSUPP;
        }
        if ((align != 0 && (ns.Start + offset + s.StartPad) % align != 0) || offset % PageDefs.PAGE_SIZE != 0)
        {
            PfnErr(c, $"bad offset: {Hex(offset)} dax disabled align: {Hex(align)}");
            return -Errno.EOPNOTSUPP;
        }
        if ((ns.Start + s.StartPad) % MemremapCompatAlign != 0)
        {
            PfnErr(c, "resource start misaligned");
            return -Errno.EOPNOTSUPP;
        }
        if ((ns.Start + ns.Size - s.EndTrunc) % MemremapCompatAlign != 0)
        {
            PfnErr(c, "resource end misaligned");
            return -Errno.EOPNOTSUPP;
        }
        if (offset >= ns.Size - s.StartPad - s.EndTrunc)
        {
            PfnErr(c, "bad offset with small namespace");
            return -Errno.EOPNOTSUPP;
        }
        sb = s;
        return 0;
    }

    private static string Hex(ulong v) => v == 0 ? "0" : $"0x{v:x}";

    /// <summary>
    /// nvdimm_setup_pfn → nd_pfn_init then __nvdimm_setup_pfn: −ENODEV without uuid or namespace. A valid block is kept
    /// (and the memmap errors cleared); any validation error but −ENODEV is returned; otherwise a new block is written:
    /// read-only region → −ENXIO ("regionN is read-only, unable to init metadata"); a start not 2 MiB aligned → −EINVAL;
    /// mode none → −ENXIO; dataoff = ALIGN(start + 8K + 64·PHYS_PFN(size − 8K), max(align, 2M)) − start for pmem
    /// (ALIGN(start + 8K, …) for ram); no room → −ENXIO ("unable to satisfy requested alignment"); end_trunc = the tail
    /// past the last aligned boundary; version 1.4, page_size 4096, page_struct_size 64, the checksum; memmap errors are
    /// cleared before the block is written with nsio_rw_bytes. ram mode with dataoff under the 8 KiB reserve → −EINVAL.
    /// </summary>
    private int SetupPfn(NdClaim c)
    {
        if (c.Uuid == null || c.Ns == null) return -Errno.ENODEV;
        var ns = c.Ns;
        var rc = PfnValidate(c, out var sb);
        if (rc == 0)
        {
            c.Sb = sb;
            rc = ClearMemmapErrors(c);
            if (rc < 0) return rc;
        }
        else if (rc != -Errno.ENODEV) return rc;
        else
        {
            if (c.Region.ReadOnly)
            {
                PfnErr(c, $"{c.Region.Name} is read-only, unable to init metadata");
                return -Errno.ENXIO;
            }
            var start = ns.Start;
            var size = ns.Size;
            var npfns = (size - InfoBlockReserve) >> PageDefs.PAGE_SHIFT;
            var align = Math.Max(c.Align, MemremapCompatAlign);
            if (start % MemremapCompatAlign != 0)
            {
                PfnErr(c, $"{ns.Name}: start 0x{start:x} misaligned to 0x{MemremapCompatAlign:x}");
                return -Errno.EINVAL;
            }
            var endTrunc = start + size - (start + size) / align * align;
            ulong offset;
            if (c.Mode == NdPfnMode.PFN_MODE_PMEM) offset = (start + InfoBlockReserve + 64 * npfns + align - 1) / align * align - start;
            else if (c.Mode == NdPfnMode.PFN_MODE_RAM) offset = (start + InfoBlockReserve + align - 1) / align * align - start;
            else return -Errno.ENXIO;
            if (offset >= size - endTrunc)
            {
                PfnErr(c, $"{ns.Name} unable to satisfy requested alignment");
                return -Errno.ENXIO;
            }
            sb = new PfnSb
            {
                Signature = c.Signature,
                Mode = c.Mode,
                DataOff = offset,
                Npfns = (size - offset - endTrunc) >> PageDefs.PAGE_SHIFT,
                Uuid = (byte[])c.Uuid.Clone(),
                ParentUuid = (byte[])ns.ParentUuid.Clone(),
                EndTrunc = (uint)endTrunc,
                Align = (uint)c.Align,
            };
            sb.Seal();
            c.Sb = sb;
            rc = ClearMemmapErrors(c);
            if (rc < 0) return rc;
            rc = NsWrite(ns, PfnSb.Offset, sb.ToBytes());
            if (rc < 0) return rc;
        }
        if (c.Mode == NdPfnMode.PFN_MODE_RAM && c.Sb!.DataOff < InfoBlockReserve) return -Errno.EINVAL;
        return 0;
    }

    /// <summary>
    /// nd_pfn_clear_memmap_errors (pmem mode only): while the region badblocks hold a sector of the memmap area
    /// [(SZ_4K + sizeof(pfn_sb)) / 512, dataoff / 512) — checked with namespace-relative sector numbers against the
    /// region's table, as the kernel does — write zero pages over it through nsio_rw_bytes (which clears the poison);
    /// a failed write is "error clearing %x badblocks at %llx" and the probe's error. When a pass clears nothing (the
    /// platform cannot clear, and nsio_rw_bytes reports success) the kernel spins forever: reported as a livelock.
    /// </summary>
    private int ClearMemmapErrors(NdClaim c)
    {
        if (c.Mode != NdPfnMode.PFN_MODE_PMEM) return 0;
        var ns = c.Ns!;
        var r = c.Region;
        const long metaStart = (4096 + PfnSb.Size) >> 9;
        var metaNum = (long)(c.Sb!.DataOff >> 9) - metaStart;
        var zero = ZeroBlock;
        var guard = new RetryGuard("nd_pfn_clear_memmap_errors");
        (long, long) last = (-1, -1);
        while (true)
        {
            if (r.Bb.Check(metaStart, metaNum, out var firstBad, out var numBad) == 0) return 0;
            // A platform whose clear fails (QEMU: nsio_rw_bytes still returns 0) leaves the entry: the kernel loops forever.
            guard.Pass(progressed: (firstBad, numBad) != last);
            last = (firstBad, numBad);
            var nsoff = (r.Start + ((ulong)firstBad << 9) - ns.Start) & ~(PageDefs.PAGE_SIZE - 1);
            var zeroLen = PageDefs.PageAlign((ulong)numBad << 9);
            var rc = 0;
            while (zeroLen > 0)
            {
                var chunk = Math.Min(zeroLen, PageDefs.PAGE_SIZE);
                rc = NsWrite(ns, nsoff, zero.AsSpan(0, (int)chunk));
                if (rc != 0) break;
                zeroLen -= chunk;
                nsoff += chunk;
            }
            if (rc != 0)
            {
                PfnErr(c, $"error clearing {numBad:x} badblocks at {firstBad:x}");
                return rc;
            }
            if (Platform == NvdimmPlatform.E820) return 0; // e820 pretends to clear without touching the region table
        }
    }
}
