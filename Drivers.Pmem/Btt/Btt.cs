using KernelSim.Block;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;
using static KernelSim.Drivers.Pmem.BttConst;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct btt and drivers/nvdimm/btt.c: a Block Translation Table over a namespace (sector mode). Each external LBA goes
/// through a map to an internal block; a write goes to a free block taken from the lane's flog entry, then the flog and
/// the map are updated, so a sector is either the old or the new data after a power failure. Metadata lives on the
/// media (arena info blocks, map, flog) and is read back when a BTT is attached again. The disk is /dev/pmemNs.
/// Lanes: the model runs on one CPU, so every I/O uses lane 0 (nd_region_acquire_lane).
/// </summary>
public sealed class Btt : IBlockDeviceOps
{
    private readonly INdNamespaceIo _ns;
    private readonly List<BttArena> _arenas = [];
    private KernelPtr _scratch;
    private KernelPtr? _zeroChunk;
    private KernelPtr? _zeroPage;

    private Btt(Machine machine, INdNamespaceIo ns, ulong rawsize, uint lbasize, Guid uuid, Guid parentUuid)
    {
        Machine = machine;
        _ns = ns;
        RawSize = rawsize;
        Lbasize = lbasize;
        SectorSize = lbasize >= 4096 ? 4096u : 512u;
        Uuid = uuid;
        ParentUuid = parentUuid;
    }

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>The namespace underneath.</summary>
    public INdNamespaceIo Namespace => _ns;

    internal string NsName => _ns.Name;

    /// <summary>btt-&gt;rawsize: namespace size minus the initial offset.</summary>
    public ulong RawSize { get; }

    /// <summary>btt-&gt;lbasize: the sector_size chosen for the BTT (512, 520, 528, 4096, 4104, 4160, 4224).</summary>
    public uint Lbasize { get; }

    /// <summary>btt-&gt;sector_size: 4096 when lbasize ≥ 4096, else 512 (the disk's logical block size).</summary>
    public uint SectorSize { get; }

    /// <summary>nd_btt-&gt;uuid.</summary>
    public Guid Uuid { get; }

    /// <summary>The namespace uuid recorded as parent_uuid (zero for a label-less namespace).</summary>
    public Guid ParentUuid { get; }

    /// <summary>nd_btt-&gt;initial_offset: 4096 for version 1.1 arenas.</summary>
    public ulong InitialOffset => V1_INITIAL_OFFSET;

    /// <summary>version_major of new arenas (1: label-less namespaces; BTT 2.0 needs namespace labels).</summary>
    public ushort VersionMajor => 1;

    /// <summary>version_minor of new arenas.</summary>
    public ushort VersionMinor => 1;

    /// <summary>The arenas in order.</summary>
    public IReadOnlyList<BttArena> Arenas => _arenas;

    /// <summary>btt-&gt;nlba: external LBAs of all arenas.</summary>
    public ulong Nlba { get; private set; }

    /// <summary>True when attach found valid arenas on the media (discover_arenas → INIT_READY) instead of writing new ones.</summary>
    public bool Discovered { get; private set; }

    /// <summary>The gendisk (/dev/pmemNs); null after <see cref="Detach"/>.</summary>
    public BlockDevice? Disk { get; private set; }

    /// <summary>
    /// nvdimm_namespace_disk_name with a BTT claim: "pmem&lt;region&gt;s" for namespace index 0, "pmem&lt;region&gt;.&lt;n&gt;s" otherwise.
    /// </summary>
    public static string DiskName(int regionId, int nsIndex) => nsIndex == 0 ? $"pmem{regionId}s" : $"pmem{regionId}.{nsIndex}s";

    /// <summary>
    /// nvdimm_namespace_attach_btt + btt_init: −ENODEV for an incomplete configuration (no uuid, lbasize 0), −EINVAL for a
    /// sector size btt_lbasize_supported lacks, −ENXIO when the namespace is smaller than 16 MiB + 4 KiB. Then
    /// discover_arenas: valid info blocks from the first arena on are parsed (log indices, free lists with map recovery);
    /// an invalid first info block means "No existing arenas", so create_arenas lays out arenas of at most 512 GiB
    /// (a tail under 16 MiB is left unused) and btt_meta_init writes map, flog and info blocks (info2 first); an invalid
    /// later info block is "Found corrupted metadata!". Any failure there makes btt_init return NULL: −ENOMEM. Finally
    /// the disk is added with capacity nlba · sector_size. The disk is named from the namespace name ("namespace0.0" →
    /// pmem0s).
    /// </summary>
    public static int Attach(Machine machine, INdNamespaceIo ns, uint lbasize, Guid? uuid, Guid parentUuid, out Btt? btt)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(ns);
        btt = null;
        if (uuid == null || lbasize == 0) return -Errno.ENODEV;
        if (!LbasizeSupported.Contains(lbasize)) return -Errno.EINVAL;
        if (ns.Size < ARENA_MIN_SIZE + V1_INITIAL_OFFSET) return -Errno.ENXIO;
        var b = new Btt(machine, ns, ns.Size - V1_INITIAL_OFFSET, lbasize, uuid.Value, parentUuid);
        using var _ = machine.Tracer.Fn("nvdimm_namespace_attach_btt", "nvdimm");
        var rc = b.Init();
        if (rc != 0)
        {
            machine.State.Printk($"nd_btt {ns.Name}: init: error: {rc}");
            return -Errno.ENOMEM;
        }
        var disk = new BlockDevice(machine, DiskName(ns.Region.Id, NsIndex(ns.Name)), (long)(b.Nlba * b.SectorSize >> 9), b, b.SectorSize)
        {
            Features = BlkFeatures.BLK_FEAT_SYNCHRONOUS,
            PrivateData = b,
        };
        rc = machine.Services.GetRequiredService<Genhd>().AddDisk(disk);
        if (rc < 0) return rc;
        b.Disk = disk;
        btt = b;
        return 0;
    }

    /// <summary>
    /// What an earlier boot's btt_init left on a namespace that had no arenas: create_arenas and btt_meta_init (map, flog,
    /// info2, info), no disk. Used to boot a machine whose namespace is already in sector mode. 0 or −errno.
    /// </summary>
    internal static int WriteLayout(Machine machine, INdNamespaceIo ns, uint lbasize, Guid uuid, Guid parentUuid)
    {
        if (!LbasizeSupported.Contains(lbasize)) return -Errno.EINVAL;
        if (ns.Size < ARENA_MIN_SIZE + V1_INITIAL_OFFSET) return -Errno.ENXIO;
        var b = new Btt(machine, ns, ns.Size - V1_INITIAL_OFFSET, lbasize, uuid, parentUuid);
        b._scratch = machine.Kmalloc(NdChecksum.SbSize) ?? throw new InvalidOperationException("out of memory for the BTT buffer");
        var rc = b.CreateArenas();
        return rc != 0 ? rc : b.MetaInit();
    }

    private static int NsIndex(string name)
    {
        var dot = name.LastIndexOf('.');
        return dot >= 0 && int.TryParse(name.AsSpan(dot + 1), out var n) ? n : 0;
    }

    /// <summary>nvdimm_namespace_detach_btt → btt_fini: remove the disk (open files keep their inode). 0, or −ENXIO when already detached.</summary>
    public int Detach()
    {
        if (Disk == null) return -Errno.ENXIO;
        Machine.Services.GetRequiredService<Genhd>().DelGendisk(Disk);
        Disk = null;
        return 0;
    }

    /// <summary>
    /// __nd_btt_probe's check (nd_btt_version for a v1.1 claim): read the info block at the initial offset and validate it
    /// against <paramref name="parentUuid"/>. 0 with the decoded block, −ENXIO when the read fails, −ENODEV when the block
    /// is invalid or not version 1.1.
    /// </summary>
    public static int ReadInfoBlock(Machine machine, INdNamespaceIo ns, Guid parentUuid, out BttSb? sb)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(ns);
        sb = null;
        var buf = machine.Kmalloc(NdChecksum.SbSize) ?? throw new InvalidOperationException("out of memory");
        if (ns.RwBytes(V1_INITIAL_OFFSET, buf, NdChecksum.SbSize, write: false, NvdimmIoFlags.None) != 0) return -Errno.ENXIO;
        var bytes = NvdimmBus.InfoBlockScratch; // filled entirely here and done with before returning
        machine.Phys.PeekBytes(machine.KernelMap.Pa(buf)!.Value, bytes);
        if (!BttSb.IsValid(bytes, parentUuid)) return -Errno.ENODEV;
        var s = BttSb.FromBytes(bytes);
        if (s.VersionMajor != 1 || s.VersionMinor != 1) return -Errno.ENODEV;
        sb = s;
        return 0;
    }

    private int Init()
    {
        _scratch = Machine.Kmalloc(NdChecksum.SbSize) ?? throw new InvalidOperationException("out of memory for the BTT buffer");
        var rc = DiscoverArenas(out var found);
        if (rc != 0) return rc;
        Discovered = found;
        if (found) return 0;
        rc = CreateArenas();
        if (rc != 0) return rc;
        return MetaInit();
    }

    /// <summary>discover_arenas: walk the info blocks; false in <paramref name="found"/> when the first is not valid.</summary>
    private int DiscoverArenas(out bool found)
    {
        found = false;
        var remaining = RawSize;
        ulong curOff = 0, curNlba = 0;
        var sbBytes = new byte[NdChecksum.SbSize];
        while (remaining > 0)
        {
            var rc = ReadBytes(curOff, sbBytes, NvdimmIoFlags.None);
            if (rc != 0) return Fail(rc);
            if (!BttSb.IsValid(sbBytes, ParentUuid))
            {
                if (remaining == RawSize)
                {
                    Machine.State.Printk($"nd_btt {NsName}: No existing arenas");
                    return 0;
                }
                Machine.State.Printk($"nd_btt {NsName}: Found corrupted metadata!");
                return Fail(-Errno.ENODEV);
            }
            var sb = BttSb.FromBytes(sbBytes);
            if ((sb.Flags & IB_FLAG_ERROR_MASK) != 0) Machine.State.Printk($"nd_btt {NsName}: Found arena with an error flag");
            var arena = BttArena.Parse(this, sb, curOff, curNlba);
            rc = arena.SetLogIndices();
            if (rc != 0)
            {
                Machine.State.Printk($"nd_btt {NsName}: Unable to deduce log/padding indices");
                return Fail(rc);
            }
            rc = arena.FreelistInit();
            if (rc != 0) return Fail(rc);
            _arenas.Add(arena);
            remaining -= Math.Min(remaining, arena.Size);
            curOff += arena.Size;
            curNlba += arena.ExternalNlba;
            if (arena.Nextoff == 0) break;
        }
        Nlba = curNlba;
        found = true;
        return 0;
    }

    private int Fail(int rc)
    {
        _arenas.Clear(); // free_arenas
        return rc;
    }

    private int CreateArenas()
    {
        _arenas.AddRange(CreateArenas(this, RawSize, Lbasize));
        foreach (var a in _arenas) Nlba += a.ExternalNlba;
        return 0;
    }

    /// <summary>
    /// The arenas create_arenas would lay out on <paramref name="rawsize"/> bytes for <paramref name="lbasize"/> (geometry
    /// only: nothing is written): arenas of min(512 GiB, remaining); a remainder under 16 MiB gets no arena; nextoff is
    /// the arena size unless what follows is under 16 MiB.
    /// </summary>
    public static IReadOnlyList<BttArena> PlanArenas(ulong rawsize, uint lbasize) => CreateArenas(null, rawsize, lbasize);

    private static List<BttArena> CreateArenas(Btt? btt, ulong rawsize, uint lbasize)
    {
        var list = new List<BttArena>();
        var remaining = rawsize;
        ulong curOff = 0, nlba = 0;
        while (remaining > 0)
        {
            var arenaSize = Math.Min(ARENA_MAX_SIZE, remaining);
            remaining -= arenaSize;
            if (arenaSize < ARENA_MIN_SIZE) break;
            var arena = BttArena.Alloc(btt, lbasize, arenaSize, nlba, curOff);
            nlba += arena.ExternalNlba;
            arena.Nextoff = remaining >= ARENA_MIN_SIZE ? arena.Size : 0;
            curOff += arenaSize;
            list.Add(arena);
        }
        return list;
    }

    /// <summary>btt_meta_init → btt_arena_write_layout (map, log, info2 then info) and btt_freelist_init for every arena.</summary>
    private int MetaInit()
    {
        foreach (var a in _arenas)
        {
            var rc = a.MapInit();
            if (rc != 0) return rc;
            rc = a.LogInit();
            if (rc != 0) return rc;
            var sb = a.InfoBlock(Uuid, ParentUuid).ToBytes();
            rc = WriteBytes(a.Info2off, sb, NvdimmIoFlags.None);
            if (rc != 0) return rc;
            rc = WriteBytes(a.Infooff, sb, NvdimmIoFlags.None);
            if (rc != 0) return rc;
            rc = a.FreelistInit();
            if (rc != 0) return rc;
        }
        return 0;
    }

    // ---- byte access (arena_read_bytes / arena_write_bytes: offset + initial_offset) ---------------------------

    internal int ReadBytes(ulong offset, Span<byte> dst, NvdimmIoFlags flags)
    {
        var rc = _ns.RwBytes(offset + InitialOffset, _scratch, (ulong)dst.Length, write: false, flags);
        if (rc != 0) return rc;
        Machine.Phys.PeekBytes(Machine.KernelMap.Pa(_scratch)!.Value, dst);
        return 0;
    }

    internal int WriteBytes(ulong offset, ReadOnlySpan<byte> src, NvdimmIoFlags flags)
    {
        Machine.Phys.PokeBytes(Machine.KernelMap.Pa(_scratch)!.Value, src);
        return _ns.RwBytes(offset + InitialOffset, _scratch, (ulong)src.Length, write: true, flags);
    }

    /// <summary>Zero [offset, +len) in chunks of <paramref name="chunk"/> bytes from a zeroed kernel buffer (btt_map_init, btt_log_init).</summary>
    internal int WriteZeros(ulong offset, ulong len, ulong chunk)
    {
        var zero = _zeroChunk ??= Machine.Kmalloc(2UL << 20) ?? throw new InvalidOperationException("out of memory for the zero buffer");
        while (len > 0)
        {
            var size = Math.Min(len, chunk);
            var rc = _ns.RwBytes(offset + InitialOffset, zero, size, write: true, NvdimmIoFlags.None);
            if (rc != 0) return rc;
            offset += size;
            len -= size;
        }
        return 0;
    }

    /// <summary>arena_write_bytes of ZERO_PAGE (arena_clear_freelist_error), flags 0.</summary>
    internal int WriteZeroPage(ulong offset, ulong len)
    {
        var zero = _zeroPage ??= Machine.Kmalloc(PageDefs.PAGE_SIZE) ?? throw new InvalidOperationException("out of memory for the zero page");
        return _ns.RwBytes(offset + InitialOffset, zero, len, write: true, NvdimmIoFlags.None);
    }

    private static KernelPtr Kmap(ulong pfn, uint off) => KernelPtr.FromPhys(PhysAddr.FromPfn(pfn)) + (ulong)off;

    // ---- block I/O -------------------------------------------------------------------------------------------

    /// <summary>
    /// btt_submit_bio: every single-page segment must be a whole number of sectors (len &lt; sector_size, not a multiple,
    /// or more than a page → "unaligned bio segment", BLK_STS_IOERR); it goes to btt_read_pg / btt_write_pg and the first
    /// error ("io error in READ|WRITE sector …") becomes the bio status (errno_to_blk_status).
    /// </summary>
    public void SubmitBio(Bio bio)
    {
        using var _ = Machine.Tracer.Fn("btt_submit_bio", "nvdimm");
        var sector = bio.Sector;
        foreach (var bv in bio.IoVec)
        {
            var pfn = bv.Pfn + bv.Offset / PageDefs.PAGE_SIZE;
            var off = bv.Offset % (uint)PageDefs.PAGE_SIZE;
            var left = bv.Len;
            var failed = false;
            while (left > 0)
            {
                var len = Math.Min(left, (uint)PageDefs.PAGE_SIZE - off);
                if (len > PageDefs.PAGE_SIZE || len < SectorSize || len % SectorSize != 0)
                {
                    Machine.State.Printk($"nd_btt {NsName}: unaligned bio segment (len: {len})");
                    bio.Status = BlkStatus.BLK_STS_IOERR;
                    failed = true;
                    break;
                }
                var err = bio.IsWrite ? WritePg(sector, pfn, off, len) : ReadPg(pfn, off, sector, len);
                if (err != 0)
                {
                    Machine.State.Printk($"nd_btt {NsName}: io error in {(bio.IsWrite ? "WRITE" : "READ")} sector {sector}, len {len},");
                    bio.Status = err > 0 ? BlkStatus.BLK_STS_IOERR : BlkErrors.ErrnoToBlkStatus(err);
                    failed = true;
                    break;
                }
                sector += len >> 9;
                left -= len;
                off = 0;
                pfn++;
            }
            if (failed) break;
        }
        bio.Endio();
    }

    /// <summary>lba_to_arena: the arena holding the external LBA of a 512-byte sector and the pre-map LBA in it; −EIO past the end.</summary>
    private int LbaToArena(long sector, out uint premap, out BttArena? arena)
    {
        var lba = ((ulong)sector << 9) / SectorSize;
        foreach (var a in _arenas)
        {
            if (lba < a.ExternalNlba)
            {
                arena = a;
                premap = (uint)lba;
                return 0;
            }
            lba -= a.ExternalNlba;
        }
        arena = null;
        premap = 0;
        return -Errno.EIO;
    }

    /// <summary>
    /// btt_read_pg: per sector, map the LBA (NVDIMM_IO_ATOMIC); a trimmed entry reads as zeros, an entry with the E flag is
    /// −EIO without touching the media; otherwise read the data block (btt_data_read). A failed data read sets the E flag
    /// in the map (btt_map_write(premap, postmap, 0, 1); "Error persistently tracking bad blocks" if that fails too) and
    /// returns the error.
    /// </summary>
    private int ReadPg(ulong pfn, uint off, long sector, uint len)
    {
        using var fn = Machine.Tracer.Fn("btt_read_pg", "nvdimm");
        while (len > 0)
        {
            var ret = LbaToArena(sector, out var premap, out var arena);
            if (ret != 0) return ret;
            var curLen = Math.Min(SectorSize, len);
            ret = arena!.MapRead(premap, out var postmap, out var trim, out var error, NvdimmIoFlags.NVDIMM_IO_ATOMIC);
            if (ret != 0) return ret;
            if (trim)
            {
                Machine.Copy.Memset(Kmap(pfn, off), 0, curLen);
                return 0; // the kernel leaves the whole page request here (goto out_lane)
            }
            if (error) return -Errno.EIO;
            // The RTT re-check loop re-reads the map until it is stable: one pass on one CPU.
            ret = _ns.RwBytes(arena.ToNamespaceOffset(postmap) + InitialOffset, Kmap(pfn, off), curLen, write: false, NvdimmIoFlags.NVDIMM_IO_ATOMIC);
            if (ret != 0)
            {
                if (arena.MapWrite(premap, postmap, false, true, NvdimmIoFlags.NVDIMM_IO_ATOMIC) != 0)
                    Machine.State.Printk($"nd_btt {NsName}: Error persistently tracking bad blocks at {premap:#x}");
                return ret;
            }
            len -= curLen;
            off += curLen;
            sector += SectorSize >> 9;
        }
        return 0;
    }

    /// <summary>btt_is_badblock: is_bad_pmem on the namespace badblocks for the internal block (with the initial offset).</summary>
    private bool IsBadblock(BttArena arena, uint postmap)
    {
        var nsoff = arena.ToNamespaceOffset(postmap) + InitialOffset;
        return _ns.Bb.Count != 0 && _ns.Bb.Check((long)(nsoff >> 9), arena.InternalLbasize >> 9) != 0;
    }

    /// <summary>
    /// btt_write_pg: per sector — −EIO when the arena has IB_FLAG_ERROR; a free block that is known bad (or already marked)
    /// is cleared first with the zero page (arena_clear_freelist_error, an error ends the write) and the lane is taken
    /// again; the data goes to the free block (NVDIMM_IO_ATOMIC, so a bad target is −EIO, never cleared here); then under
    /// the map lock the old mapping is read (E flag kept in old_map), the flog entry {premap, old, new, seq} is written and
    /// the map points at the new block. When the old block carried the E flag it is now the lane's free block and is
    /// cleared at once.
    /// </summary>
    private int WritePg(long sector, ulong pfn, uint off, uint len)
    {
        using var fn = Machine.Tracer.Fn("btt_write_pg", "nvdimm");
        var guard = new RetryGuard("btt_write_pg");
        const uint lane = 0;
        while (len > 0)
        {
            var ret = LbaToArena(sector, out var premap, out var arena);
            if (ret != 0) return ret;
            var curLen = Math.Min(SectorSize, len);
            if ((arena!.Flags & IB_FLAG_ERROR_MASK) != 0) return -Errno.EIO;
            ref var free = ref arena.Free(lane);
            if (IsBadblock(arena, free.Block)) free.HasErr = true;
            if (free.HasErr)
            {
                ret = arena.ClearFreelistError(lane);
                if (ret != 0) return ret;
                guard.Pass(progressed: false); // goto retry: a clear that "succeeds" without clearing loops forever
                continue;
            }
            var newPostmap = free.Block;
            if (newPostmap >= arena.InternalNlba) return -Errno.EIO;
            ret = _ns.RwBytes(arena.ToNamespaceOffset(newPostmap) + InitialOffset, Kmap(pfn, off), curLen, write: true, NvdimmIoFlags.NVDIMM_IO_ATOMIC);
            if (ret != 0) return ret;
            ret = arena.MapRead(premap, out var oldPostmap, out _, out var eFlag, NvdimmIoFlags.NVDIMM_IO_ATOMIC);
            if (ret != 0) return ret;
            if (oldPostmap >= arena.InternalNlba) return -Errno.EIO;
            if (eFlag) oldPostmap |= MAP_ERR_MASK;
            ret = arena.FlogWrite(lane, free.Sub, new BttLogEntry(premap, oldPostmap, newPostmap, free.Seq));
            if (ret != 0) return ret;
            ret = arena.MapWrite(premap, newPostmap, false, false, NvdimmIoFlags.NVDIMM_IO_ATOMIC);
            if (ret != 0) return ret;
            if (eFlag)
            {
                ret = arena.ClearFreelistError(lane);
                if (ret != 0) return ret;
            }
            guard.Pass(progressed: true);
            len -= curLen;
            off += curLen;
            sector += SectorSize >> 9;
        }
        return 0;
    }

    /// <inheritdoc/>
    public override string ToString() => $"btt on {NsName}: {Arenas.Count} arena(s) nlba={Nlba} lbasize={Lbasize}";
}
