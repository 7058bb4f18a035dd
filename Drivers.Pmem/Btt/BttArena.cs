using System.Buffers.Binary;
using static KernelSim.Drivers.Pmem.BttConst;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// struct arena_info (drivers/nvdimm/btt.h): one arena's geometry (byte offsets relative to the BTT's raw space, i.e.
/// after nd_btt-&gt;initial_offset), its in-memory free list and the log slot indices; and the metadata helpers of
/// drivers/nvdimm/btt.c that act on one arena (map, flog, info block, free-list error clearing).
/// </summary>
public sealed class BttArena
{
    private readonly Btt _btt; // null for a planned arena (geometry only)
    private readonly FreeEntry[] _freelist;

    /// <summary>struct free_entry: the block a lane writes next, the flog slot and sequence number to use, has_err.</summary>
    internal struct FreeEntry
    {
        public uint Block;
        public byte Sub;
        public byte Seq;
        public bool HasErr;
    }

    internal BttArena(Btt? btt, ulong size, ulong externalLbaStart, uint lbasize, uint nfree)
    {
        _btt = btt!;
        Size = size;
        ExternalLbaStart = externalLbaStart;
        ExternalLbasize = lbasize;
        InternalLbasize = (uint)((lbasize + INT_LBASIZE_ALIGNMENT - 1) / INT_LBASIZE_ALIGNMENT * INT_LBASIZE_ALIGNMENT);
        Nfree = nfree;
        _freelist = new FreeEntry[nfree];
    }

    /// <summary>size: bytes this arena occupies, metadata included.</summary>
    public ulong Size { get; internal set; }
    /// <summary>external_lba_start: the first external LBA of this arena.</summary>
    public ulong ExternalLbaStart { get; }
    /// <summary>internal_nlba: data blocks including the nfree spare ones.</summary>
    public uint InternalNlba { get; internal set; }
    /// <summary>internal_lbasize: external_lbasize rounded up to 64.</summary>
    public uint InternalLbasize { get; internal set; }
    /// <summary>external_nlba = internal_nlba − nfree.</summary>
    public uint ExternalNlba { get; internal set; }
    /// <summary>external_lbasize.</summary>
    public uint ExternalLbasize { get; internal set; }
    /// <summary>nfree (256).</summary>
    public uint Nfree { get; internal set; }
    /// <summary>version_major.</summary>
    public ushort VersionMajor { get; internal set; }
    /// <summary>version_minor.</summary>
    public ushort VersionMinor { get; internal set; }
    /// <summary>nextoff (absolute; 0 for the last arena).</summary>
    public ulong Nextoff { get; internal set; }
    /// <summary>infooff.</summary>
    public ulong Infooff { get; internal set; }
    /// <summary>dataoff.</summary>
    public ulong Dataoff { get; internal set; }
    /// <summary>mapoff.</summary>
    public ulong Mapoff { get; internal set; }
    /// <summary>logoff.</summary>
    public ulong Logoff { get; internal set; }
    /// <summary>info2off.</summary>
    public ulong Info2off { get; internal set; }
    /// <summary>flags (IB_FLAG_ERROR from the info block).</summary>
    public uint Flags { get; internal set; }
    /// <summary>log_index[0], log_index[1]: the flog slots in use, (0, 1) or the pre-4.15 (0, 2).</summary>
    public int[] LogIndex { get; } = [0, 1];

    /// <summary>The block lane <paramref name="lane"/> writes next (freelist[lane].block).</summary>
    public uint FreeBlock(int lane) => _freelist[lane].Block;

    /// <summary>freelist[lane].has_err.</summary>
    public bool FreeBlockHasError(int lane) => _freelist[lane].HasErr;

    /// <summary>
    /// alloc_arena: the layout of a new arena of <paramref name="size"/> bytes at <paramref name="arenaOff"/>: two 4 KiB
    /// info blocks, a log of roundup(nfree · 64, 4 KiB), then internal_nlba = (available − 4 KiB) / (internal_lbasize +
    /// 4), a map of roundup(external_nlba · 4, 4 KiB), the data area filling the rest. Order on the media: info, data,
    /// map, log, info2.
    /// </summary>
    internal static BttArena Alloc(Btt? btt, uint lbasize, ulong size, ulong start, ulong arenaOff)
    {
        var a = new BttArena(btt, size, start, lbasize, BTT_DEFAULT_NFREE)
        {
            VersionMajor = 1,
            VersionMinor = 1,
        };
        var available = size - size % BTT_PG_SIZE;
        available -= 2 * BTT_PG_SIZE;
        var logsize = RoundUp((ulong)a.Nfree * LOG_GRP_SIZE, BTT_PG_SIZE);
        available -= logsize;
        a.InternalNlba = (uint)((available - BTT_PG_SIZE) / (a.InternalLbasize + MAP_ENT_SIZE));
        a.ExternalNlba = a.InternalNlba - a.Nfree;
        var mapsize = RoundUp((ulong)a.ExternalNlba * MAP_ENT_SIZE, BTT_PG_SIZE);
        var datasize = available - mapsize;
        a.Infooff = arenaOff;
        a.Dataoff = a.Infooff + BTT_PG_SIZE;
        a.Mapoff = a.Dataoff + datasize;
        a.Logoff = a.Mapoff + mapsize;
        a.Info2off = a.Logoff + logsize;
        return a;
    }

    private static ulong RoundUp(ulong v, ulong to) => (v + to - 1) / to * to;

    /// <summary>parse_arena_meta: the geometry of a valid info block found at <paramref name="arenaOff"/>.</summary>
    internal static BttArena Parse(Btt btt, BttSb sb, ulong arenaOff, ulong externalLbaStart)
    {
        var a = new BttArena(btt, 0, externalLbaStart, sb.ExternalLbasize, sb.Nfree)
        {
            InternalNlba = sb.InternalNlba,
            InternalLbasize = sb.InternalLbasize,
            ExternalNlba = sb.ExternalNlba,
            VersionMajor = sb.VersionMajor,
            VersionMinor = sb.VersionMinor,
            Nextoff = sb.Nextoff == 0 ? 0 : arenaOff + sb.Nextoff,
            Infooff = arenaOff,
            Dataoff = arenaOff + sb.Dataoff,
            Mapoff = arenaOff + sb.Mapoff,
            Logoff = arenaOff + sb.Logoff,
            Info2off = arenaOff + sb.Info2off,
            Flags = sb.Flags,
        };
        a.Size = sb.Nextoff > 0 ? sb.Nextoff : a.Info2off - a.Infooff + BTT_PG_SIZE;
        return a;
    }

    /// <summary>The info block btt_arena_write_layout writes for this arena (offsets relative to the arena, flags 0).</summary>
    internal BttSb InfoBlock(Guid uuid, Guid parentUuid) => new()
    {
        Uuid = uuid,
        ParentUuid = parentUuid,
        Flags = 0,
        VersionMajor = VersionMajor,
        VersionMinor = VersionMinor,
        ExternalLbasize = ExternalLbasize,
        ExternalNlba = ExternalNlba,
        InternalLbasize = InternalLbasize,
        InternalNlba = InternalNlba,
        Nfree = Nfree,
        Infosize = NdChecksum.SbSize,
        Nextoff = Nextoff,
        Dataoff = Dataoff - Infooff,
        Mapoff = Mapoff - Infooff,
        Logoff = Logoff - Infooff,
        Info2off = Info2off - Infooff,
    };

    /// <summary>to_namespace_offset: dataoff + lba · internal_lbasize (relative to the raw space).</summary>
    public ulong ToNamespaceOffset(uint lba) => Dataoff + (ulong)lba * InternalLbasize;

    // ---- map ---------------------------------------------------------------------------------------------

    /// <summary>
    /// btt_map_read: the raw entry of <paramref name="lba"/>; both flags clear (the initial all-zero map) means the identity
    /// mapping, E only → error, Z only → trimmed, both → normal. 0 or the read error.
    /// </summary>
    internal int MapRead(uint lba, out uint mapping, out bool trim, out bool error, NvdimmIoFlags flags)
    {
        mapping = 0;
        trim = error = false;
        Span<byte> b = stackalloc byte[MAP_ENT_SIZE];
        var ret = _btt.ReadBytes(Mapoff + (ulong)lba * MAP_ENT_SIZE, b, flags);
        if (ret != 0) return ret;
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(b);
        var postmap = EntLba(raw);
        switch ((EntZFlag(raw) ? 2 : 0) + (EntEFlag(raw) ? 1 : 0))
        {
            case 0: mapping = lba; break;
            case 1: mapping = postmap; error = true; break;
            case 2: mapping = postmap; trim = true; break;
            default: mapping = postmap; break;
        }
        return 0;
    }

    /// <summary>btt_map_write: the entry with neither flag is stored as MAP_ENT_NORMAL | lba; E → bit 30; Z → bit 31; both → −EIO.</summary>
    internal int MapWrite(uint lba, uint mapping, bool zFlag, bool eFlag, NvdimmIoFlags flags)
    {
        mapping = EntLba(mapping);
        switch ((zFlag ? 2 : 0) + (eFlag ? 1 : 0))
        {
            case 0: mapping |= MAP_ENT_NORMAL; break;
            case 1: mapping |= MAP_ERR_MASK; break;
            case 2: mapping |= MAP_TRIM_MASK; break;
            default: return -Uapi.Errno.EIO;
        }
        Span<byte> b = stackalloc byte[MAP_ENT_SIZE];
        BinaryPrimitives.WriteUInt32LittleEndian(b, mapping);
        return _btt.WriteBytes(Mapoff + (ulong)lba * MAP_ENT_SIZE, b, flags);
    }

    // ---- flog --------------------------------------------------------------------------------------------

    private int LogGroupRead(uint lane, Span<byte> group) => _btt.ReadBytes(Logoff + (ulong)lane * LOG_GRP_SIZE, group, NvdimmIoFlags.None);

    private static uint LogSeq(ReadOnlySpan<byte> group, int slot) => BinaryPrimitives.ReadUInt32LittleEndian(group[(slot * LOG_ENT_SIZE + 12)..]);

    /// <summary>
    /// btt_log_get_old: which of the two slots is the older (0 or 1), from the sequence numbers (1 → 2 → 3 → 1); a
    /// never-written slot 0 is treated as the old one; equal sequences or a sum above 5 → −EINVAL.
    /// </summary>
    private int LogGetOld(ReadOnlySpan<byte> group)
    {
        var s0 = LogSeq(group, LogIndex[0]);
        var s1 = LogSeq(group, LogIndex[1]);
        if (s0 == 0) return 0;
        if (s0 == s1) return -Uapi.Errno.EINVAL;
        if (s0 + s1 > 5) return -Uapi.Errno.EINVAL;
        if (s0 < s1) return s1 - s0 == 1 ? 0 : 1;
        return s0 - s1 == 1 ? 1 : 0;
    }

    /// <summary>btt_log_read: the old or new entry of a lane and its slot (0/1), or −EIO on a read error or corruption.</summary>
    internal int LogRead(uint lane, bool old, out BttLogEntry ent)
    {
        ent = default;
        Span<byte> g = stackalloc byte[LOG_GRP_SIZE];
        if (LogGroupRead(lane, g) != 0) return -Uapi.Errno.EIO;
        var oldEnt = LogGetOld(g);
        if (oldEnt is < 0 or > 1)
        {
            _btt.Machine.State.Printk($"nd_btt {_btt.NsName}: log corruption ({oldEnt}): lane {lane} seq [{LogSeq(g, LogIndex[0])}, {LogSeq(g, LogIndex[1])}]");
            return -Uapi.Errno.EIO;
        }
        var retEnt = old ? oldEnt : 1 - oldEnt;
        ent = BttLogEntry.Read(g[(LogIndex[retEnt] * LOG_ENT_SIZE)..]);
        return retEnt;
    }

    /// <summary>__btt_log_write: slot log_index[sub] of the lane's group, written as two 8-byte halves.</summary>
    internal int LogWrite(uint lane, int sub, BttLogEntry ent, NvdimmIoFlags flags)
    {
        var off = Logoff + (ulong)lane * LOG_GRP_SIZE + (ulong)LogIndex[sub] * LOG_ENT_SIZE;
        Span<byte> b = stackalloc byte[LOG_ENT_SIZE];
        ent.Write(b);
        var ret = _btt.WriteBytes(off, b[..8], flags);
        if (ret != 0) return ret;
        return _btt.WriteBytes(off + 8, b[8..], flags);
    }

    /// <summary>
    /// btt_flog_write: the log entry (NVDIMM_IO_ATOMIC), then prepare the lane's next free entry: the other slot, the next
    /// sequence number (1–3), has_err when old_map carries the E flag, and block = ent_lba(old_map).
    /// </summary>
    internal int FlogWrite(uint lane, int sub, BttLogEntry ent)
    {
        var ret = LogWrite(lane, sub, ent, NvdimmIoFlags.NVDIMM_IO_ATOMIC);
        if (ret != 0) return ret;
        ref var f = ref _freelist[lane];
        f.Sub = (byte)(1 - f.Sub);
        if (++f.Seq == 4) f.Seq = 1;
        if (EntEFlag(ent.OldMap)) f.HasErr = true;
        f.Block = EntLba(ent.OldMap);
        return 0;
    }

    internal ref FreeEntry Free(uint lane) => ref _freelist[lane];

    // ---- initialisation ------------------------------------------------------------------------------------

    /// <summary>btt_map_init: zero the whole map in 2 MiB chunks (the all-zero map is the identity mapping).</summary>
    internal int MapInit() => _btt.WriteZeros(Mapoff, Logoff - Mapoff, 2UL << 20);

    /// <summary>
    /// btt_log_init: zero the log in 4 KiB chunks, then for each lane i write slot 0 = {lba i, old_map = new_map =
    /// external_nlba + i, seq 1}: the nfree spare blocks start out free.
    /// </summary>
    internal int LogInit()
    {
        var ret = _btt.WriteZeros(Logoff, Info2off - Logoff, 4096);
        if (ret != 0) return ret;
        for (uint i = 0; i < Nfree; i++)
        {
            ret = LogWrite(i, 0, new BttLogEntry(i, ExternalNlba + i, ExternalNlba + i, LOG_SEQ_INIT), NvdimmIoFlags.None);
            if (ret != 0) return ret;
        }
        return 0;
    }

    /// <summary>
    /// log_set_indices: find which two of the four slots a group uses from the first group with two non-padding entries,
    /// check every other group against them; all groups in their initial state → (0, 1). Only (0, 1) and (0, 2) are
    /// accepted (−ENXIO otherwise, "Found an unknown padding scheme").
    /// </summary>
    internal int SetLogIndices()
    {
        var idxSet = false;
        var initialState = true;
        int[] idx = [-1, -1];
        var nextIdx = 0;
        Span<byte> g = stackalloc byte[LOG_GRP_SIZE];
        for (uint i = 0; i < Nfree; i++)
        {
            var ret = LogGroupRead(i, g);
            if (ret < 0) return ret;
            var padCount = 0;
            for (var j = 0; j < 4; j++)
            {
                var pad = BttLogEntry.Read(g[(j * LOG_ENT_SIZE)..]).IsPadding;
                if (!idxSet)
                {
                    if (pad)
                    {
                        padCount++;
                        continue;
                    }
                    if (nextIdx == 1 && j == idx[0]) continue;
                    idx[nextIdx++] = j;
                    if (nextIdx == 2) idxSet = true;
                    else if (nextIdx > 2) return -Uapi.Errno.ENXIO;
                }
                else if (j == idx[0])
                {
                    if (pad) return -Uapi.Errno.ENXIO;
                }
                else if (j != idx[1] && !pad)
                {
                    return -Uapi.Errno.ENXIO;
                }
            }
            if (padCount < 3) initialState = false;
        }
        if (!initialState && !idxSet) return -Uapi.Errno.ENXIO;
        if (initialState) idx[1] = 1;
        if (!(idx[0] == 0 && idx[1] is 1 or 2))
        {
            _btt.Machine.State.Printk($"nd_btt {_btt.NsName}: Found an unknown padding scheme");
            return -Uapi.Errno.ENXIO;
        }
        LogIndex[0] = idx[0];
        LogIndex[1] = idx[1];
        return 0;
    }

    /// <summary>
    /// btt_freelist_init: for each lane take the newest flog entry: the lane's free block is ent_lba(old_map), its slot the
    /// other one and its sequence the next; an old_map with only the E flag marks the block bad and clears it
    /// (arena_clear_freelist_error, failures only logged). If the log says a write completed but the map still holds
    /// old_map, finish the interrupted write: map[lba] = new_map.
    /// </summary>
    internal int FreelistInit()
    {
        for (uint i = 0; i < Nfree; i++)
        {
            var n = LogRead(i, old: false, out var logNew);
            if (n < 0) return n;
            var logOld = EntLba(logNew.OldMap);
            var logNewMap = EntLba(logNew.NewMap);
            ref var f = ref _freelist[i];
            f.Sub = (byte)(1 - n);
            f.Seq = (byte)NdIncSeq(logNew.Seq);
            f.Block = logOld;
            if (EntEFlag(logNew.OldMap) && !EntNormal(logNew.OldMap))
            {
                f.HasErr = true;
                if (ClearFreelistError(i) != 0)
                    _btt.Machine.State.Printk($"nd_btt {_btt.NsName}: Unable to clear known errors");
            }
            if (logOld == logNewMap) continue;
            var ret = MapRead(logNew.Lba, out var mapEntry, out _, out _, NvdimmIoFlags.None);
            if (ret != 0) return ret;
            if (logNewMap != mapEntry && logOld == mapEntry)
            {
                ret = MapWrite(logNew.Lba, logNew.NewMap, false, false, NvdimmIoFlags.None);
                if (ret != 0) return ret;
            }
        }
        return 0;
    }

    /// <summary>
    /// arena_clear_freelist_error: when the lane's free block is marked bad, write the zero page over its sector_size bytes
    /// in page chunks without NVDIMM_IO_ATOMIC (so nsio_rw_bytes may clear the poison); has_err clears only when every
    /// chunk succeeded. 0 or the write error.
    /// </summary>
    internal int ClearFreelistError(uint lane)
    {
        ref var f = ref _freelist[lane];
        if (!f.HasErr) return 0;
        var nsoff = ToNamespaceOffset(f.Block);
        ulong len = _btt.SectorSize;
        while (len > 0)
        {
            var chunk = Math.Min(len, 4096UL);
            var ret = _btt.WriteZeroPage(nsoff, chunk);
            if (ret != 0) return ret;
            len -= chunk;
            nsoff += chunk;
            if (len == 0) f.HasErr = false;
        }
        return 0;
    }
}
